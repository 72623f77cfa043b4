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
# Each condition answers ``holds(p)`` quickly, on facts prepared once per evaluation (``Prepared``),
# and ``seen(p)``: what it saw, in words, for the proposal's "why". The words are only built for
# rules that fire (and for dry runs), so a long SOP costs set lookups per rule, not strings.


def _listed(values) -> str:
    return ", ".join(map(str, values))


def _ancestors(code: str, separator: str) -> list[str]:
    """``violence.ocsea.sextortion`` -> violence, violence.ocsea, violence.ocsea.sextortion (``KE-047``: KE, KE-047)."""
    parts = code.split(separator)
    return [separator.join(parts[: index + 1]) for index in range(len(parts))]


def _present(value) -> bool:
    return value is not None and value is not False and value != "" and value != []


class Prepared:
    """The facts of one case, arranged once for the rules to test."""

    __slots__ = (
        "facts",
        "categories",
        "ancestors_of",
        "category_ancestors",
        "risk",
        "risk_rank",
        "age",
        "band",
        "caller",
        "channel",
        "channels",
        "region",
        "region_ancestors",
        "present",
        "caregiver_suspected",
    )

    def __init__(self, facts: dict):
        self.facts = facts
        self.categories = sorted({code for code in facts.get("categories") or () if isinstance(code, str)})
        self.ancestors_of = {code: frozenset(_ancestors(code, ".")) for code in self.categories}
        self.category_ancestors = set().union(*self.ancestors_of.values())
        self.risk = facts.get("risk_level")
        self.risk_rank = v.RISK_LEVELS.index(self.risk) if self.risk in v.RISK_LEVELS else -1
        age = facts.get("age")
        self.age = age if isinstance(age, int) and not isinstance(age, bool) else None
        self.band = facts.get("age_band") or "unknown"
        self.caller = facts.get("caller_type")
        self.channel = facts.get("channel")
        self.channels = set(facts.get("channels") or ())
        self.region = facts.get("region")
        self.region_ancestors = set(_ancestors(self.region, "-")) if isinstance(self.region, str) else set()
        people = facts.get("people") or ()
        incident = facts.get("incident") or {}
        present = set()
        for name, (section, key) in v.HAS_FACTS.items():
            if key == "people.alleged_perpetrator":
                found = any(person.get("role") == "alleged_perpetrator" for person in people)
            else:
                found = _present((incident if section else facts).get(key))
            if found:
                present.add(name)
        self.present = present
        self.caregiver_suspected = perpetrator_is_caregiver(facts)


class _Condition:
    def evaluate(self, p: Prepared) -> tuple[bool, str]:
        return self.holds(p), self.seen(p)


@dataclass(frozen=True)
class CategoriesAny(_Condition):
    codes: tuple[str, ...]

    def holds(self, p):
        return not p.category_ancestors.isdisjoint(self.codes)

    def seen(self, p):
        found = [code for code in p.categories if not p.ancestors_of[code].isdisjoint(self.codes)]
        if found:
            return f"category {_listed(found)} (any of {_listed(self.codes)})"
        return f"no category under any of {_listed(self.codes)}"


@dataclass(frozen=True)
class CategoriesAll(_Condition):
    codes: tuple[str, ...]

    def holds(self, p):
        return p.category_ancestors.issuperset(self.codes)

    def seen(self, p):
        missing = [code for code in self.codes if code not in p.category_ancestors]
        if missing:
            return f"no category under {_listed(missing)} (all of {_listed(self.codes)} needed)"
        return f"categories under all of {_listed(self.codes)}"


@dataclass(frozen=True)
class RiskLevel(_Condition):
    levels: tuple[str, ...]

    def holds(self, p):
        return p.risk in self.levels

    def seen(self, p):
        return f"risk level {p.risk or 'not set'} (one of {_listed(self.levels)})"


@dataclass(frozen=True)
class RiskAtLeast(_Condition):
    level: str

    def holds(self, p):
        return p.risk_rank >= v.RISK_LEVELS.index(self.level)

    def seen(self, p):
        return f"risk level {p.risk or 'not set'} (at least {self.level})"


@dataclass(frozen=True)
class AgeBand(_Condition):
    bands: tuple[str, ...]

    def holds(self, p):
        return p.band in self.bands

    def seen(self, p):
        return f"age band {p.band} (one of {_listed(self.bands)})"


@dataclass(frozen=True)
class AgeUnder(_Condition):
    years: int

    def holds(self, p):
        if p.age is not None:
            return p.age < self.years
        # Only the band is known: it counts when the whole band is under the limit; an unknown age never does.
        _youngest, oldest = v.AGE_BANDS.get(p.band, (None, None))
        return oldest is not None and oldest < self.years

    def seen(self, p):
        if p.age is not None:
            return f"age {p.age} (under {self.years})"
        return f"age band {p.band} (under {self.years})"


@dataclass(frozen=True)
class CallerType(_Condition):
    types: tuple[str, ...]

    def holds(self, p):
        return p.caller in self.types

    def seen(self, p):
        return f"caller {p.caller or 'unknown'} (one of {_listed(self.types)})"


@dataclass(frozen=True)
class Channel(_Condition):
    """The channel of the case's first contact."""

    channels: tuple[str, ...]

    def holds(self, p):
        return p.channel in self.channels

    def seen(self, p):
        return f"first channel {p.channel or 'unknown'} (one of {_listed(self.channels)})"


@dataclass(frozen=True)
class ChannelsAny(_Condition):
    """Any channel of the case's linked contacts."""

    channels: tuple[str, ...]

    def holds(self, p):
        return not p.channels.isdisjoint(self.channels)

    def seen(self, p):
        found = sorted(p.channels.intersection(self.channels))
        if found:
            return f"a contact by {_listed(found)} (any of {_listed(self.channels)})"
        return f"no contact by any of {_listed(self.channels)}"


@dataclass(frozen=True)
class Region(_Condition):
    """The child's region, or a region it lies in (``KE`` holds for ``KE-047``)."""

    regions: tuple[str, ...]

    def holds(self, p):
        return not p.region_ancestors.isdisjoint(self.regions)

    def seen(self, p):
        return f"region {p.region or 'unknown'} (in {_listed(self.regions)})"


@dataclass(frozen=True)
class Has(_Condition):
    names: tuple[str, ...]

    def holds(self, p):
        return p.present.issuperset(self.names)

    def seen(self, p):
        missing = [name for name in self.names if name not in p.present]
        return f"no {_listed(missing)}" if missing else f"has {_listed(self.names)}"


def perpetrator_is_caregiver(facts: dict) -> bool:
    """Whether a caregiver of the child is recorded as the alleged perpetrator (either way the facts say it)."""
    if facts.get("perpetrator_is_caregiver"):
        return True
    return any(
        person.get("role") == "alleged_perpetrator" and person.get("is_caregiver")
        for person in facts.get("people") or ()
    )


@dataclass(frozen=True)
class PerpetratorIsCaregiver(_Condition):
    expected: bool

    def holds(self, p):
        return p.caregiver_suspected == self.expected

    def seen(self, p):
        if p.caregiver_suspected:
            return "the alleged perpetrator is a caregiver"
        return "the alleged perpetrator is not a caregiver"


@dataclass(frozen=True)
class All(_Condition):
    parts: tuple

    def holds(self, p):
        for part in self.parts:
            if not part.holds(p):
                return False
        return True

    def seen(self, p):
        failed = next((part for part in self.parts if not part.holds(p)), None)
        if failed is not None:
            return failed.seen(p)
        return "; ".join(part.seen(p) for part in self.parts)


@dataclass(frozen=True)
class Any(_Condition):
    parts: tuple

    def holds(self, p):
        for part in self.parts:
            if part.holds(p):
                return True
        return False

    def seen(self, p):
        matched = [part.seen(p) for part in self.parts if part.holds(p)]
        if matched:
            return "any of: " + " / ".join(matched)
        return "none of: " + " / ".join(part.seen(p) for part in self.parts)


@dataclass(frozen=True)
class Not(_Condition):
    part: object

    def holds(self, p):
        return not self.part.holds(p)

    def seen(self, p):
        return f"not ({self.part.seen(p)})"


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


def _required_categories(condition) -> frozenset | None:
    """Codes of which the case must have one (at or below it) for ``condition`` to hold; None: no such need.

    Most rules start from a category; knowing it lets ``evaluate`` skip the rules a case cannot meet.
    """
    if isinstance(condition, CategoriesAny):
        return frozenset(condition.codes)
    if isinstance(condition, CategoriesAll):
        return frozenset(condition.codes[:1])
    if isinstance(condition, All):
        needs = [need for part in condition.parts if (need := _required_categories(part)) is not None]
        return min(needs, key=len) if needs else None
    if isinstance(condition, Any):
        needs = [_required_categories(part) for part in condition.parts]
        return frozenset().union(*needs) if all(need is not None for need in needs) else None
    return None


@dataclass(frozen=True)
class Sop:
    name: str
    version: int
    rules: tuple[Rule, ...]
    description: str = ""
    # Rule positions by a category code they need, and the positions of rules that need none.
    by_category: dict = field(default_factory=dict, compare=False, repr=False)
    without_category: tuple[int, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self):
        by_category, without = {}, []
        for position, rule in enumerate(self.rules):
            need = _required_categories(rule.when)
            if need is None:
                without.append(position)
            for code in need or ():
                by_category.setdefault(code, []).append(position)
        object.__setattr__(self, "by_category", {code: tuple(rules) for code, rules in by_category.items()})
        object.__setattr__(self, "without_category", tuple(without))

    def candidates(self, prepared) -> list[int]:
        """Positions, in document order, of the rules this case could meet (the others need a category it lacks)."""
        positions = set(self.without_category)
        for code in prepared.category_ancestors:
            positions.update(self.by_category.get(code, ()))
        return sorted(positions)


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


@dataclass(slots=True)
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
    prepared = Prepared(facts)
    proposals = []
    for position in sop.candidates(prepared):
        rule = sop.rules[position]
        if not rule.when.holds(prepared):
            continue
        why = f"{sop.name} v{sop.version}, rule {rule.id}: {rule.when.seen(prepared)}"
        for action in rule.then:
            proposals.append(
                _propose(action, sop=sop, rule=rule, why=why, facts=facts, protect=prepared.caregiver_suspected)
            )
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
    prepared = Prepared(facts)
    results = []
    for rule in sop.rules:
        fired, seen = rule.when.evaluate(prepared)
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
