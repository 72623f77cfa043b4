"""The SOP engine: which referrals, notices and offers a line's rules propose for a case.

``evaluate(facts, sop)`` is pure (no ORM, no clock, no I/O) and deterministic: rules
in document order, actions in rule order, so the same facts and SOP give the same
proposals every time. The facts are ``cases.selectors.case_facts(case)`` (codes and
bands, no protected text); a ``Sop`` comes from ``referrals.sop.document.sop_parse``.

Each proposal names the SOP, its version and the rule, and says in plain words which
conditions matched ("why"). Resolving a referral by kind and jurisdiction to one
agency is for ``referrals`` (the proposal carries ``agency_kind`` and
``jurisdiction``, or ``agency_code``).

Do not alert offenders: no proposal asks consent of, or notifies, the caregiver when
a caregiver is recorded as the alleged perpetrator; the consent moves to the child
(with a supervisor's override allowed) and the why says so.
"""

from dataclasses import asdict, dataclass, field
from datetime import timedelta

from referrals.sop import vocabulary as v

# --- conditions ---------------------------------------------------------------------------------
# Each condition answers (matched, what it saw): the text goes into the proposal's "why".


def _listed(values) -> str:
    return ", ".join(str(value) for value in values)


def _category_matches(code: str, wanted: str) -> bool:
    """A code matches itself and its dotted descendants (``violence.ocsea`` matches ``violence.ocsea.sextortion``)."""
    return code == wanted or code.startswith(wanted + ".")


@dataclass(frozen=True)
class CategoriesAny:
    codes: tuple[str, ...]

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        found = sorted({c for c in facts.get("categories") or () if any(_category_matches(c, w) for w in self.codes)})
        if found:
            return True, f"category {_listed(found)} (any of {_listed(self.codes)})"
        return False, f"no category under any of {_listed(self.codes)}"


@dataclass(frozen=True)
class CategoriesAll:
    codes: tuple[str, ...]

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        categories = facts.get("categories") or ()
        missing = [w for w in self.codes if not any(_category_matches(c, w) for c in categories)]
        if missing:
            return False, f"no category under {_listed(missing)} (all of {_listed(self.codes)} needed)"
        return True, f"categories under all of {_listed(self.codes)}"


@dataclass(frozen=True)
class RiskLevel:
    levels: tuple[str, ...]

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        risk = facts.get("risk_level")
        return risk in self.levels, f"risk level {risk or 'not set'} (one of {_listed(self.levels)})"


@dataclass(frozen=True)
class RiskAtLeast:
    level: str

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        risk = facts.get("risk_level")
        matched = risk in v.RISK_LEVELS and v.RISK_LEVELS.index(risk) >= v.RISK_LEVELS.index(self.level)
        return matched, f"risk level {risk or 'not set'} (at least {self.level})"


@dataclass(frozen=True)
class AgeBand:
    bands: tuple[str, ...]

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        band = facts.get("age_band") or "unknown"
        return band in self.bands, f"age band {band} (one of {_listed(self.bands)})"


@dataclass(frozen=True)
class AgeUnder:
    years: int

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        age = facts.get("age")
        if isinstance(age, int) and not isinstance(age, bool):
            return age < self.years, f"age {age} (under {self.years})"
        # Only the band is known: it counts when the whole band is under the limit; an unknown age never does.
        band = facts.get("age_band") or "unknown"
        _youngest, oldest = v.AGE_BANDS.get(band, (None, None))
        return oldest is not None and oldest < self.years, f"age band {band} (under {self.years})"


@dataclass(frozen=True)
class CallerType:
    types: tuple[str, ...]

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        caller = facts.get("caller_type")
        return caller in self.types, f"caller {caller or 'unknown'} (one of {_listed(self.types)})"


@dataclass(frozen=True)
class Channel:
    """The channel of the case's first contact."""

    channels: tuple[str, ...]

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        channel = facts.get("channel")
        return channel in self.channels, f"first channel {channel or 'unknown'} (one of {_listed(self.channels)})"


@dataclass(frozen=True)
class ChannelsAny:
    """Any channel of the case's linked contacts."""

    channels: tuple[str, ...]

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        found = sorted(set(facts.get("channels") or ()) & set(self.channels))
        if found:
            return True, f"a contact by {_listed(found)} (any of {_listed(self.channels)})"
        return False, f"no contact by any of {_listed(self.channels)}"


def _region_matches(region: str, wanted: str) -> bool:
    """A region matches itself and the regions inside it (``KE`` matches ``KE-047``)."""
    return region == wanted or region.startswith(wanted + "-")


@dataclass(frozen=True)
class Region:
    regions: tuple[str, ...]

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        region = facts.get("region")
        matched = bool(region) and any(_region_matches(region, wanted) for wanted in self.regions)
        return matched, f"region {region or 'unknown'} (in {_listed(self.regions)})"


def _fact_present(facts: dict, name: str) -> bool:
    section, key = v.HAS_FACTS[name]
    if key == "people.alleged_perpetrator":
        return any(person.get("role") == "alleged_perpetrator" for person in facts.get("people") or ())
    source = (facts.get(section) or {}) if section else facts
    value = source.get(key)
    return value is not None and value is not False and value != "" and value != []


@dataclass(frozen=True)
class Has:
    names: tuple[str, ...]

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        missing = [name for name in self.names if not _fact_present(facts, name)]
        if missing:
            return False, f"no {_listed(missing)}"
        return True, f"has {_listed(self.names)}"


def perpetrator_is_caregiver(facts: dict) -> bool:
    """Whether a caregiver of the child is recorded as the alleged perpetrator (either way the facts say it)."""
    if facts.get("perpetrator_is_caregiver"):
        return True
    return any(
        person.get("role") == "alleged_perpetrator" and person.get("is_caregiver")
        for person in facts.get("people") or ()
    )


@dataclass(frozen=True)
class PerpetratorIsCaregiver:
    expected: bool

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        actual = perpetrator_is_caregiver(facts)
        said = "the alleged perpetrator is a caregiver" if actual else "the alleged perpetrator is not a caregiver"
        return actual == self.expected, said


@dataclass(frozen=True)
class All:
    parts: tuple

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        results = [part.evaluate(facts) for part in self.parts]
        failed = [text for matched, text in results if not matched]
        if failed:
            return False, failed[0]
        return True, "; ".join(text for _matched, text in results)


@dataclass(frozen=True)
class Any:
    parts: tuple

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        results = [part.evaluate(facts) for part in self.parts]
        matched = [text for ok, text in results if ok]
        if matched:
            return True, "any of: " + " / ".join(matched)
        return False, "none of: " + " / ".join(text for _ok, text in results)


@dataclass(frozen=True)
class Not:
    part: object

    def evaluate(self, facts: dict) -> tuple[bool, str]:
        matched, text = self.part.evaluate(facts)
        return not matched, f"not ({text})"


def _strings(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


# The key of a ``when:`` mapping and how to build its condition from the value.
CONDITIONS = {
    "categories_any": lambda value: CategoriesAny(_strings(value)),
    "categories_all": lambda value: CategoriesAll(_strings(value)),
    "risk_level": lambda value: RiskLevel(_strings(value)),
    "risk_at_least": lambda value: RiskAtLeast(value),
    "age_band": lambda value: AgeBand(_strings(value)),
    "child_age_under": lambda value: AgeUnder(int(value)),
    "caller_type": lambda value: CallerType(_strings(value)),
    "channel": lambda value: Channel(_strings(value)),
    "channels_any": lambda value: ChannelsAny(_strings(value)),
    "region": lambda value: Region(_strings(value)),
    "has": lambda value: Has(_strings(value)),
    "perpetrator_is_caregiver": lambda value: PerpetratorIsCaregiver(bool(value)),
    "all": lambda value: All(tuple(condition_from(part) for part in value)),
    "any": lambda value: Any(tuple(condition_from(part) for part in value)),
    "not": lambda value: Not(condition_from(value)),
}


def condition_from(mapping: dict):
    """A condition from a ``when:`` mapping (already valid against the schema); its keys all have to hold."""
    parts = tuple(CONDITIONS[key](value) for key, value in mapping.items())
    return parts[0] if len(parts) == 1 else All(parts)


# --- actions ------------------------------------------------------------------------------------


def duration_parse(text: str) -> timedelta:
    """``30m``, ``1h``, ``24h``, ``3d``, ``2w`` as a timedelta."""
    return timedelta(seconds=int(text[:-1]) * v.DURATION_UNITS[text[-1]])


def _urgency_for(due: timedelta | None) -> str:
    if due is not None and due <= timedelta(hours=1):
        return "immediate"
    if due is not None and due <= timedelta(hours=24):
        return "urgent"
    return "routine"


@dataclass(frozen=True)
class Refer:
    agency_code: str | None
    agency_kind: str | None
    jurisdiction: str  # "case", "national" or a region code
    due_within: timedelta | None
    complete_within: timedelta | None
    urgency: str
    consent: str
    consent_by: tuple[str, ...]
    needs_approval: bool
    share: tuple[str, ...]


@dataclass(frozen=True)
class Notify:
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Offer:
    offer: str


def action_from(mapping: dict):
    """An action from one item of a rule's ``then:`` list (already valid against the schema and the checks)."""
    if "notify" in mapping:
        return Notify(_strings(mapping["notify"]))
    if "offer" in mapping:
        return Offer(mapping["offer"])
    target = mapping["refer"]
    due = duration_parse(mapping["due_within"]) if mapping.get("due_within") else None
    complete = duration_parse(mapping["complete_within"]) if mapping.get("complete_within") else None
    consent = mapping.get("consent", "required")
    default_by = () if consent == "not_required" else ("child",)
    return Refer(
        agency_code=target.get("agency"),
        agency_kind=target.get("agency_kind"),
        jurisdiction=target.get("jurisdiction", v.JURISDICTION_CASE),
        due_within=due,
        complete_within=complete,
        urgency=mapping.get("urgency") or _urgency_for(due),
        consent=consent,
        consent_by=_strings(mapping["consent_by"]) if "consent_by" in mapping else default_by,
        needs_approval=bool(mapping.get("needs_approval", False)),
        share=tuple(dict.fromkeys(mapping.get("share") or ())),
    )


# --- the document and what it proposes ----------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    when: object
    then: tuple
    description: str = ""


@dataclass(frozen=True)
class Sop:
    name: str
    version: int
    rules: tuple[Rule, ...]
    description: str = ""


def sop_from_data(data: dict, *, version: int | None = None) -> Sop:
    """A ``Sop`` from a document's plain data (valid against the schema and the checks).

    ``version`` is the number the platform gave the stored version; it wins over the document's own.
    """
    rules = tuple(
        Rule(
            id=rule["id"],
            when=condition_from(rule["when"]),
            then=tuple(action_from(item) for item in rule["then"]),
            description=rule.get("description", ""),
        )
        for rule in data.get("rules") or ()
    )
    number = version if version is not None else int(data.get("version") or 0)
    return Sop(name=data["sop"], version=number, rules=rules, description=data.get("description", ""))


@dataclass(frozen=True)
class Proposal:
    """One thing an SOP rule proposes: a referral (``refer``), a notice (``notify``) or an offer (``offer``).

    A person confirms, edits or declines it; nothing here is sent by itself.
    """

    kind: str
    sop: str
    sop_version: int
    rule_id: str
    why: str
    # refer: a named agency, or a kind and a jurisdiction (a region code; None is the national agency).
    agency_code: str | None = None
    agency_kind: str | None = None
    jurisdiction: str | None = None
    national_fallback: bool = False
    urgency: str | None = None
    due_within: timedelta | None = None
    complete_within: timedelta | None = None
    consent: str | None = None
    consent_by: tuple[str, ...] = ()
    needs_approval: bool = False
    share: tuple[str, ...] = ()
    # notify: who is told; offer: what the counsellor offers the child.
    notify: tuple[str, ...] = ()
    offer: str | None = None
    # What the SOP asked for that was withheld to protect the child (e.g. the caregiver's consent).
    withheld: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        """JSON-serialisable (durations in seconds), for storing beside a proposal."""
        data = asdict(self)
        for key in ("due_within", "complete_within"):
            data[key] = int(data[key].total_seconds()) if data[key] is not None else None
        for key in ("consent_by", "share", "notify", "withheld"):
            data[key] = list(data[key])
        return data


def evaluate(facts: dict, sop: Sop) -> list[Proposal]:
    """What ``sop`` proposes for a case with these ``facts``, in document order."""
    caregiver_suspected = perpetrator_is_caregiver(facts)
    proposals = []
    for rule in sop.rules:
        matched, seen = rule.when.evaluate(facts)
        if not matched:
            continue
        why = f"{sop.name} v{sop.version}, rule {rule.id}: {seen}"
        for action in rule.then:
            proposals.append(_propose(action, sop=sop, rule=rule, why=why, facts=facts, protect=caregiver_suspected))
    return proposals


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    description: str
    fired: bool
    seen: str  # what the conditions saw: why the rule fired, or the first thing that did not hold
    proposals: tuple[Proposal, ...]


def explain(facts: dict, sop: Sop) -> list[RuleResult]:
    """Every rule of ``sop`` with whether it fires for ``facts`` and why (for a dry run); same order as ``evaluate``."""
    proposals = evaluate(facts, sop)
    results = []
    for rule in sop.rules:
        fired, seen = rule.when.evaluate(facts)
        own = tuple(proposal for proposal in proposals if proposal.rule_id == rule.id)
        results.append(RuleResult(rule.id, rule.description, fired, seen, own))
    return results


_PROTECTED_NOTE = "not the caregiver: the caregiver is recorded as the alleged perpetrator"


def _propose(action, *, sop: Sop, rule: Rule, why: str, facts: dict, protect: bool) -> Proposal:
    base = {"sop": sop.name, "sop_version": sop.version, "rule_id": rule.id}
    if isinstance(action, Notify):
        targets = action.targets
        withheld = ()
        if protect and "caregiver" in targets:
            targets = tuple(target for target in targets if target != "caregiver")
            withheld = ("notify.caregiver",)
            why += f". Notify {_PROTECTED_NOTE}"
        return Proposal(kind="notify", why=why, notify=targets, withheld=withheld, **base)
    if isinstance(action, Offer):
        return Proposal(kind="offer", why=why, offer=action.offer, **base)
    consent, consent_by, withheld = action.consent, action.consent_by, ()
    if protect and "caregiver" in consent_by:
        withheld = ("consent.caregiver",)
        consent_by = tuple(who for who in consent_by if who != "caregiver")
        if not consent_by:
            # The child's own consent, or a supervisor's override when the child cannot give it.
            consent_by = ("child",)
            if consent == "required":
                consent = "override_allowed"
            why += f". Consent asked of the child, or overridden by a supervisor; {_PROTECTED_NOTE}"
        else:
            why += f". Consent asked of the child, {_PROTECTED_NOTE}"
    if action.agency_code:
        target = {"agency_code": action.agency_code}
    elif action.jurisdiction == v.JURISDICTION_NATIONAL:
        target = {"agency_kind": action.agency_kind, "jurisdiction": None}
    elif action.jurisdiction == v.JURISDICTION_CASE:
        target = {"agency_kind": action.agency_kind, "jurisdiction": facts.get("region"), "national_fallback": True}
    else:
        target = {"agency_kind": action.agency_kind, "jurisdiction": action.jurisdiction, "national_fallback": True}
    return Proposal(
        kind="refer",
        why=why,
        urgency=action.urgency,
        due_within=action.due_within,
        complete_within=action.complete_within,
        consent=consent,
        consent_by=consent_by,
        needs_approval=action.needs_approval,
        share=action.share,
        withheld=withheld,
        **target,
        **base,
    )
