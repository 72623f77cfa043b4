"""Hypothesis strategies: case facts of the contract's shape, and SOP documents built from the vocabulary."""

from hypothesis import strategies as st

from referrals.sop import vocabulary as v

CATEGORY_CODES = (
    "violence",
    "violence.ocsea",
    "violence.ocsea.sextortion",
    "violence.ocsea.grooming",
    "violence.ocsea.csam",
    "violence.ocsea.csam.shared",
    "violence.ocsea.self_generated",
    "violence.ocsea.self_generated.coerced",
    "mental_health.self_harm",
    "family_relationships",
)
REGIONS = ("KE", "KE-047", "KE-001", "UG-102")
ROLES = ("child", "caregiver", "alleged_perpetrator", "reporter", "other")


def _sub(options, *, max_size=3):
    return st.lists(st.sampled_from(options), min_size=1, max_size=max_size, unique=True)


people = st.fixed_dictionaries(
    {
        "id": st.integers(1, 1000),
        "role": st.sampled_from(ROLES),
        "relationship": st.sampled_from(["stranger_online", "father", "mother", "peer", "teacher"]),
        "age_band": st.sampled_from(list(v.AGE_BANDS)),
        "region": st.none() | st.sampled_from(REGIONS),
        "is_caregiver": st.booleans(),
    }
)

facts = st.fixed_dictionaries(
    {
        "case_id": st.integers(1, 10**6),
        "line": st.just("demo"),
        "taxonomy_version": st.just("chi-2026.1"),
        "channel": st.sampled_from(v.CHANNELS),
        "channels": st.lists(st.sampled_from(v.CHANNELS), max_size=4, unique=True),
        "categories": st.lists(st.sampled_from(CATEGORY_CODES), max_size=4, unique=True),
        "risk_level": st.sampled_from(v.RISK_LEVELS),
        "caller_type": st.none() | st.sampled_from(v.CALLER_TYPES),
        "age_band": st.sampled_from(list(v.AGE_BANDS)),
        "age": st.none() | st.integers(0, 25),
        "gender": st.sampled_from(["girl", "boy", "non_binary", "unknown"]),
        "region": st.none() | st.sampled_from(REGIONS),
        "child_wants": st.lists(st.sampled_from(["talk", "report", "information"]), max_size=3, unique=True),
        "incident": st.fixed_dictionaries(
            {
                "platform": st.none() | st.sampled_from(["instagram", "tiktok", "snapchat"]),
                "urls_reported": st.booleans(),
                "imagery_exists": st.booleans(),
                "immediate_danger": st.booleans(),
            }
        ),
        "people": st.lists(people, max_size=4),
        "perpetrator_is_caregiver": st.booleans(),
    }
)

_leaf_conditions = st.one_of(
    st.builds(lambda c: {"categories_any": c}, _sub(CATEGORY_CODES)),
    st.builds(lambda c: {"categories_all": c}, _sub(CATEGORY_CODES, max_size=2)),
    st.builds(lambda c: {"risk_level": c}, _sub(v.RISK_LEVELS)),
    st.builds(lambda c: {"risk_at_least": c}, st.sampled_from(v.RISK_LEVELS)),
    st.builds(lambda c: {"age_band": c}, _sub(list(v.AGE_BANDS))),
    st.builds(lambda c: {"child_age_under": c}, st.integers(1, 30)),
    st.builds(lambda c: {"caller_type": c}, _sub(v.CALLER_TYPES)),
    st.builds(lambda c: {"channel": c}, _sub(v.CHANNELS)),
    st.builds(lambda c: {"channels_any": c}, _sub(v.CHANNELS)),
    st.builds(lambda c: {"region": c}, _sub(REGIONS)),
    st.builds(lambda c: {"has": c}, _sub(list(v.HAS_FACTS))),
    st.builds(lambda c: {"perpetrator_is_caregiver": c}, st.booleans()),
)

conditions = st.recursive(
    _leaf_conditions,
    lambda inner: st.one_of(
        st.builds(lambda parts: {"all": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda parts: {"any": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda part: {"not": part}, inner),
    ),
    max_leaves=6,
)

_durations = st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 99), st.sampled_from(list(v.DURATION_UNITS)))


KNOWN_SHARE_FIELDS = st.sampled_from(v.SHARE_FIELDS)


@st.composite
def referral_actions(draw, *, share_fields=KNOWN_SHARE_FIELDS):
    target = draw(
        st.one_of(
            st.builds(lambda code: {"agency": code}, st.sampled_from(["iwf", "ncmec", "ke-police-dcs"])),
            st.builds(
                lambda kind, where: {"agency_kind": kind, "jurisdiction": where},
                st.sampled_from(["police", "social_services", "reporting_portal"]),
                st.sampled_from([v.JURISDICTION_CASE, v.JURISDICTION_NATIONAL, "KE-047"]),
            ),
        )
    )
    action = {"refer": target}
    consent = draw(st.sampled_from(v.CONSENT_RULES))
    action["consent"] = consent
    if consent != "not_required" and draw(st.booleans()):
        action["consent_by"] = draw(_sub(v.CONSENT_BY, max_size=2))
    if draw(st.booleans()):
        action["due_within"] = draw(_durations)
    action["needs_approval"] = draw(st.booleans())
    action["share"] = draw(st.lists(share_fields, max_size=6, unique=True))
    return action


actions = st.one_of(
    referral_actions(),
    st.builds(lambda targets: {"notify": targets}, _sub(v.NOTIFY_TARGETS)),
    st.just({"offer": "report_remove"}),
)


@st.composite
def sop_documents(draw, *, action_strategy=actions, max_rules=6):
    count = draw(st.integers(0, max_rules))
    rules = [
        {
            "id": f"rule-{index}",
            "when": draw(conditions),
            "then": draw(st.lists(action_strategy, min_size=1, max_size=3)),
        }
        for index in range(count)
    ]
    return {"sop": "generated", "version": draw(st.integers(1, 50)), "rules": rules}
