"""The SOP engine: every condition and action, the why, and the properties that must always hold."""

import copy
import json
import random
from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import referrals.sop
from referrals.sop import vocabulary as v
from referrals.sop.document import sop_check, sop_parse
from referrals.sop.engine import Prepared, evaluate, explain, sop_from_data
from tests.sop.strategies import facts as any_facts
from tests.sop.strategies import referral_actions, sop_documents

BASE_FACTS = {
    "case_id": 17,
    "line": "demo",
    "taxonomy_version": "chi-2026.1",
    "channel": "webchat",
    "channels": ["webchat", "sms"],
    "categories": ["violence.ocsea.sextortion"],
    "risk_level": "high",
    "caller_type": "child",
    "age_band": "13-15",
    "age": 14,
    "gender": "girl",
    "region": "KE-047",
    "child_wants": ["talk", "report"],
    "incident": {"platform": "instagram", "urls_reported": True, "imagery_exists": True, "immediate_danger": False},
    "people": [
        {
            "id": 3,
            "role": "alleged_perpetrator",
            "relationship": "stranger_online",
            "age_band": "18+",
            "region": None,
            "is_caregiver": False,
        }
    ],
    "perpetrator_is_caregiver": False,
}


def facts_with(**changes):
    facts = copy.deepcopy(BASE_FACTS)
    for key, value in changes.items():
        if key.startswith("incident__"):
            facts["incident"][key.removeprefix("incident__")] = value
        else:
            facts[key] = value
    return facts


def one_rule(when, then=None):
    then = then or [{"notify": "supervisors"}]
    return sop_from_data({"sop": "test", "version": 2, "rules": [{"id": "r", "when": when, "then": then}]})


def fires(when, **changes) -> bool:
    return bool(evaluate(facts_with(**changes), one_rule(when)))


# --- conditions ----------------------------------------------------------------------------------


def test_categories_any_matches_a_code_and_its_descendants_only():
    assert fires({"categories_any": ["violence.ocsea"]})
    assert fires({"categories_any": ["violence"]})
    assert fires({"categories_any": ["violence.ocsea.sextortion"]})
    assert not fires({"categories_any": ["violence.ocsea.sex"]})  # a prefix that is not a dotted ancestor
    assert not fires({"categories_any": ["violence.ocsea.sextortion.financial"]})  # a descendant of the case's code
    assert fires({"categories_any": ["mental_health", "violence.ocsea"]})


def test_categories_all_needs_each_code():
    two = ["violence.ocsea.sextortion", "mental_health.self_harm"]
    assert fires({"categories_all": ["violence.ocsea", "mental_health"]}, categories=two)
    assert not fires({"categories_all": ["violence.ocsea", "mental_health"]})
    assert not fires({"categories_all": ["violence"]}, categories=[])


def test_risk_level_listed_and_at_least():
    assert fires({"risk_level": ["high", "imminent"]})
    assert not fires({"risk_level": "imminent"})
    assert fires({"risk_at_least": "medium"})
    assert fires({"risk_at_least": "high"})
    assert not fires({"risk_at_least": "imminent"})
    assert not fires({"risk_at_least": "low"}, risk_level=None)


def test_age_band_and_age_under():
    assert fires({"age_band": ["13-15", "16-17"]})
    assert not fires({"age_band": ["16-17"]})
    assert fires({"child_age_under": 18})
    assert not fires({"child_age_under": 14})  # 14 is not under 14
    # Only the band known: the whole band must be under the limit.
    assert fires({"child_age_under": 16}, age=None)
    assert not fires({"child_age_under": 15}, age=None)
    assert not fires({"child_age_under": 18}, age=None, age_band="18+")
    # An unknown age is never assumed young (or old).
    assert not fires({"child_age_under": 30}, age=None, age_band="unknown")


def test_caller_type_channel_and_region():
    assert fires({"caller_type": ["child", "self_concern"]})
    assert not fires({"caller_type": "professional"})
    assert not fires({"caller_type": "child"}, caller_type=None)
    assert fires({"channel": "webchat"})
    assert not fires({"channel": "sms"})  # sms is a later contact, not the first
    assert fires({"channels_any": ["sms"]})
    assert not fires({"channels_any": ["phone"]})
    assert fires({"region": ["KE-047"]})
    assert fires({"region": "KE"})  # a country contains its counties
    assert not fires({"region": "KE-04"})
    assert not fires({"region": "KE"}, region=None)


def test_has_facts():
    assert fires({"has": ["incident.urls", "incident.imagery"]})
    assert not fires({"has": ["incident.immediate_danger"]})
    assert fires({"has": "incident.immediate_danger"}, incident__immediate_danger=True)
    assert not fires({"has": "incident.urls"}, incident__urls_reported=False)
    assert fires({"has": "people.alleged_perpetrator"})
    assert not fires({"has": "people.alleged_perpetrator"}, people=[])
    assert not fires({"has": "region"}, region=None)
    assert not fires({"has": "incident.platform"}, incident={})


def test_perpetrator_is_caregiver_from_the_flag_or_the_people():
    assert fires({"perpetrator_is_caregiver": False})
    assert fires({"perpetrator_is_caregiver": True}, perpetrator_is_caregiver=True)
    father = {"id": 4, "role": "alleged_perpetrator", "relationship": "father", "is_caregiver": True}
    assert fires({"perpetrator_is_caregiver": True}, people=[father])
    # A caregiver who is not the alleged perpetrator does not count.
    mother = {"id": 5, "role": "caregiver", "relationship": "mother", "is_caregiver": True}
    assert not fires({"perpetrator_is_caregiver": True}, people=[mother])


def test_combinators():
    assert fires({"any": [{"risk_level": "imminent"}, {"has": "incident.urls"}]})
    assert not fires({"any": [{"risk_level": "imminent"}, {"channel": "sms"}]})
    assert fires({"all": [{"risk_level": "high"}, {"not": {"channel": "sms"}}]})
    assert not fires({"not": {"risk_at_least": "medium"}})
    # Keys of one mapping all have to hold.
    assert not fires({"risk_level": "high", "channel": "sms"})


def test_missing_facts_never_crash():
    sop = sop_parse((_demo_path()).read_text())
    assert evaluate({}, sop) == []
    assert evaluate({"categories": None, "incident": None, "people": None}, sop) == []


# --- actions and the why -------------------------------------------------------------------------


def test_referral_by_kind_uses_the_case_region_and_falls_back_to_national():
    sop = one_rule(
        {"risk_level": "high"},
        [
            {"refer": {"agency_kind": "police", "jurisdiction": "case"}, "due_within": "1h"},
            {"refer": {"agency_kind": "police", "jurisdiction": "national"}, "due_within": "3d"},
            {"refer": {"agency": "ke-police-dcs"}, "due_within": "24h", "urgency": "routine"},
            {"refer": {"agency_kind": "police", "jurisdiction": "UG-102"}},
        ],
    )
    local, national, named, elsewhere = evaluate(BASE_FACTS, sop)
    assert (local.agency_kind, local.jurisdiction, local.national_fallback) == ("police", "KE-047", True)
    assert (local.due_within, local.urgency) == (timedelta(hours=1), "immediate")
    assert (national.jurisdiction, national.national_fallback, national.urgency) == (None, False, "routine")
    assert (named.agency_code, named.agency_kind, named.urgency) == ("ke-police-dcs", None, "routine")
    assert (elsewhere.jurisdiction, elsewhere.due_within, elsewhere.urgency) == ("UG-102", None, "routine")
    [no_region] = evaluate(
        facts_with(region=None), one_rule({"risk_level": "high"}, [{"refer": {"agency_kind": "police"}}])
    )
    assert (no_region.jurisdiction, no_region.national_fallback) == (None, True)


def test_referral_carries_consent_approval_share_and_provenance():
    sop = one_rule(
        {"categories_any": "violence.ocsea", "risk_at_least": "high"},
        [
            {
                "refer": {"agency_kind": "social_services"},
                "due_within": "3d",
                "complete_within": "2w",
                "consent": "override_allowed",
                "consent_by": ["child", "caregiver"],
                "needs_approval": True,
                "share": ["child.name", "incident.summary", "child.name"],
            }
        ],
    )
    [proposal] = evaluate(BASE_FACTS, sop)
    assert proposal.kind == "refer"
    assert (proposal.sop, proposal.sop_version, proposal.rule_id) == ("test", 2, "r")
    assert proposal.consent == "override_allowed"
    assert proposal.consent_by == ("child", "caregiver")
    assert proposal.needs_approval is True
    assert proposal.share == ("child.name", "incident.summary")
    assert (proposal.due_within, proposal.complete_within) == (timedelta(days=3), timedelta(weeks=2))
    assert proposal.why == (
        "test v2, rule r: category violence.ocsea.sextortion (any of violence.ocsea); risk level high (at least high)"
    )
    assert proposal.as_dict()["due_within"] == 3 * 86400
    json.dumps(proposal.as_dict())


def test_consent_defaults_to_the_child_and_not_required_asks_nobody():
    sop = one_rule(
        {"risk_level": "high"},
        [{"refer": {"agency": "iwf"}}, {"refer": {"agency": "iwf"}, "consent": "not_required"}],
    )
    default, not_required = evaluate(BASE_FACTS, sop)
    assert (default.consent, default.consent_by) == ("required", ("child",))
    assert (not_required.consent, not_required.consent_by) == ("not_required", ())


def test_notify_and_offer():
    sop = one_rule({"risk_level": "high"}, [{"notify": ["supervisors", "on_call"]}, {"offer": "report_remove"}])
    notify, offer = evaluate(BASE_FACTS, sop)
    assert (notify.kind, notify.notify) == ("notify", ("supervisors", "on_call"))
    assert (offer.kind, offer.offer) == ("offer", "report_remove")
    assert offer.rule_id == "r"


CAREGIVER_ACTIONS = [
    {"refer": {"agency_kind": "social_services"}, "consent": "required", "consent_by": "caregiver"},
    {"refer": {"agency_kind": "social_services"}, "consent": "required", "consent_by": ["child", "caregiver"]},
    {"notify": ["supervisors", "caregiver"]},
]


def test_a_caregiver_perpetrator_is_never_asked_consent_nor_notified():
    father = {"id": 4, "role": "alleged_perpetrator", "relationship": "father", "is_caregiver": True}
    only_caregiver, both, notify = evaluate(
        facts_with(people=[father]), one_rule({"risk_level": "high"}, CAREGIVER_ACTIONS)
    )
    assert (only_caregiver.consent, only_caregiver.consent_by) == ("override_allowed", ("child",))
    assert "overridden by a supervisor" in only_caregiver.why
    assert "caregiver is recorded as the alleged perpetrator" in only_caregiver.why
    assert only_caregiver.withheld == ("consent.caregiver",)
    assert (both.consent, both.consent_by) == ("required", ("child",))
    assert notify.notify == ("supervisors",)
    assert "Notify not the caregiver" in notify.why


def test_the_flag_alone_protects_too():
    proposals = evaluate(facts_with(perpetrator_is_caregiver=True), one_rule({"risk_level": "high"}, CAREGIVER_ACTIONS))
    assert all("caregiver" not in p.consent_by + p.notify for p in proposals)


def test_without_a_caregiver_perpetrator_the_caregiver_is_asked_and_told():
    only_caregiver, both, notify = evaluate(BASE_FACTS, one_rule({"risk_level": "high"}, CAREGIVER_ACTIONS))
    assert (only_caregiver.consent, only_caregiver.consent_by) == ("required", ("caregiver",))
    assert both.consent_by == ("child", "caregiver")
    assert notify.notify == ("supervisors", "caregiver")
    assert only_caregiver.withheld == notify.withheld == ()


def test_rules_fire_in_document_order_and_all_matching_rules_fire():
    sop = sop_from_data(
        {
            "sop": "order",
            "version": 1,
            "rules": [
                {
                    "id": "b",
                    "when": {"risk_level": "high"},
                    "then": [{"notify": "supervisors"}, {"offer": "report_remove"}],
                },
                {"id": "a", "when": {"channel": "sms"}, "then": [{"notify": "on_call"}]},
                {"id": "c", "when": {"has": "incident.urls"}, "then": [{"refer": {"agency": "iwf"}}]},
            ],
        }
    )
    assert [(p.rule_id, p.kind) for p in evaluate(BASE_FACTS, sop)] == [("b", "notify"), ("b", "offer"), ("c", "refer")]


def test_the_why_names_what_did_not_hold_under_not_and_any():
    [proposal] = evaluate(BASE_FACTS, one_rule({"any": [{"channel": "sms"}, {"not": {"risk_level": "low"}}]}))
    assert proposal.why == "test v2, rule r: any of: not (risk level high (one of low))"


# --- properties ----------------------------------------------------------------------------------

PROPERTY = hypothesis_settings(max_examples=200, deadline=None, database=None)


def _shuffled(facts: dict, seed: int) -> dict:
    facts = copy.deepcopy(facts)
    rng = random.Random(seed)
    for key in ("categories", "channels", "people", "child_wants"):
        rng.shuffle(facts[key])
    return dict(sorted(facts.items(), key=lambda item: rng.random()))


@PROPERTY
@given(document=sop_documents(), facts=any_facts, seed=st.integers())
def test_evaluation_is_deterministic(document, facts, seed):
    sop = sop_from_data(document)
    first = evaluate(facts, sop)
    assert evaluate(copy.deepcopy(facts), sop) == first
    # The order of the facts' lists and keys changes nothing either.
    assert evaluate(_shuffled(facts, seed), sop_from_data(copy.deepcopy(document))) == first


@PROPERTY
@given(document=sop_documents(), facts=any_facts)
def test_no_proposal_asks_consent_of_or_notifies_an_alleged_perpetrator(document, facts):
    proposals = evaluate(facts, sop_from_data(document))
    caregiver_suspected = facts["perpetrator_is_caregiver"] or any(
        person["role"] == "alleged_perpetrator" and person["is_caregiver"] for person in facts["people"]
    )
    for proposal in proposals:
        assert "alleged_perpetrator" not in proposal.consent_by + proposal.notify
        if caregiver_suspected:
            assert "caregiver" not in proposal.consent_by, proposal
            assert "caregiver" not in proposal.notify, proposal
            if proposal.kind == "refer" and proposal.consent != "not_required":
                assert proposal.consent_by, proposal  # somebody (the child) is still asked


@PROPERTY
@given(
    document=sop_documents(
        action_strategy=referral_actions(share_fields=st.sampled_from(v.SHARE_FIELDS) | st.text(max_size=20))
    ),
    facts=any_facts,
)
def test_share_lists_of_an_accepted_document_only_hold_known_fields(document, facts):
    text = json.dumps(document)  # JSON is YAML
    errors = sop_check(text)
    asked = {name for rule in document["rules"] for action in rule["then"] for name in action.get("share", ())}
    unknown = asked - set(v.SHARE_FIELDS)
    if unknown:
        assert errors, f"a document sharing {unknown} was accepted"
        return
    assert errors == [], errors
    for proposal in evaluate(facts, sop_parse(text)):
        assert set(proposal.share) <= set(v.SHARE_FIELDS)


@hypothesis_settings(max_examples=60, deadline=None, database=None)
@given(document=sop_documents())
def test_every_generated_document_passes_the_checks(document):
    assert sop_check(json.dumps(document)) == []


def _demo_path():
    return Path(referrals.sop.__file__).parent / "demo" / "online-abuse.yaml"


@PROPERTY
@given(document=sop_documents(max_rules=10), facts=any_facts)
def test_skipping_rules_by_their_categories_changes_nothing(document, facts):
    sop = sop_from_data(document)
    prepared = Prepared(facts)
    every_rule = [rule.id for rule in sop.rules if rule.when.holds(prepared)]
    assert list(dict.fromkeys(proposal.rule_id for proposal in evaluate(facts, sop))) == every_rule
    assert [result.rule_id for result in explain(facts, sop) if result.fired] == every_rule
