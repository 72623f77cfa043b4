"""SOP documents: what a mistake looks like to the person who made it (line, column, rule id, plain words)."""

from pathlib import Path

import pytest
from django.core.management import call_command

import referrals.sop
from referrals.sop.document import MAX_TEXT_CHARS, SopInvalid, sop_check, sop_parse
from referrals.sop.schema import sop_schema_json

DEMO = Path(referrals.sop.__file__).parent / "demo" / "online-abuse.yaml"
PUBLISHED_SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "sop.schema.json"

GOOD = """\
sop: national-ocsea
version: 3
rules:
  - id: imminent-danger
    when: {risk_level: [imminent]}
    then:
      - refer: {agency_kind: police, jurisdiction: case}
        due_within: 1h
        consent: override_allowed
        needs_approval: true
        share: [child.name, child.location, incident.summary, people]
      - notify: supervisors
"""


def errors_of(text, **kwargs) -> list[str]:
    return [str(error) for error in sop_check(text, **kwargs)]


def test_a_good_document_and_the_demo_have_no_errors():
    assert sop_check(GOOD) == []
    assert sop_check(DEMO.read_text()) == []
    sop = sop_parse(GOOD)
    assert (sop.name, sop.version, [rule.id for rule in sop.rules]) == ("national-ocsea", 3, ["imminent-danger"])
    assert sop_parse(GOOD, version=7).version == 7  # the stored version's number wins


def test_broken_yaml_names_its_line_and_column():
    assert errors_of(GOOD.replace("    then:\n", "    then:\n\t")) == [
        "line 7, column 1: YAML: while scanning for the next token found character '\\t' that cannot start any token"
    ]
    [error] = sop_check(GOOD.replace("[imminent]}", "[imminent}"))
    assert (error.line, error.message.startswith("YAML:")) == (5, True)


def test_a_key_given_twice_is_refused_where_it_is_repeated():
    [error] = sop_check(GOOD.replace("        due_within: 1h\n", "        due_within: 1h\n        due_within: 2h\n"))
    assert error.line == 9
    assert "duplicate key" in error.message


def test_an_unknown_value_suggests_the_nearest():
    assert errors_of(GOOD.replace("[imminent]", "[iminent]")) == [
        "line 5, column 25, rule imminent-danger: 'iminent' is not one of none, low, medium, high, imminent"
        " (did you mean 'imminent'?)"
    ]


def test_an_unknown_key_is_named_at_the_key():
    assert errors_of(GOOD.replace("needs_approval", "needs_aproval")) == [
        "line 10, column 9, rule imminent-danger: unknown key 'needs_aproval' (did you mean 'needs_approval'?)"
    ]
    assert errors_of(GOOD.replace("when: {risk_level", "when: {risk")) == [
        "line 5, column 12, rule imminent-danger: unknown key 'risk' (did you mean 'risk_level'?)"
    ]


def test_a_bad_duration_says_how_to_write_one():
    assert errors_of(GOOD.replace("due_within: 1h", "due_within: 1 hour")) == [
        "line 8, column 21, rule imminent-danger: '1 hour' is not a duration (write a number and m, h, d or w:"
        " 30m, 1h, 24h, 3d, 2w)"
    ]


def test_a_missing_part_and_a_wrong_type():
    assert errors_of("sop: x\nrules:\n  - id: a\n    when: {risk_level: high}\n") == [
        "line 3, column 5, rule a: 'then' is missing"
    ]
    assert errors_of(
        "sop: x\nrules:\n  - id: a\n    when: {child_age_under: eighteen}\n    then: [{offer: report_remove}]\n"
    ) == ["line 4, column 29, rule a: 'eighteen' is not of type 'integer'"]
    assert errors_of("- just\n- a list\n") == ["line 1, column 1: ['just', 'a list'] is not of type 'object'"]
    assert errors_of("") == ["line 1, column 1: the document is empty"]


def test_unknown_share_fields_are_refused():
    assert errors_of(GOOD.replace("child.location", "child.adress")) == [
        "line 11, column 29, rule imminent-danger: unknown share field 'child.adress' (did you mean 'child.age'?)"
    ]
    assert errors_of(GOOD.replace("people]", "perpetrator]")) == [
        "line 11, column 63, rule imminent-danger: unknown share field 'perpetrator' (did you mean 'people'?)"
    ]


def test_duplicate_rule_ids_name_the_second():
    text = GOOD + "  - id: imminent-danger\n    when: {has: incident.urls}\n    then: [{refer: {agency: iwf}}]\n"
    assert errors_of(text) == [
        "line 13, column 9, rule imminent-danger: rule id 'imminent-danger' is used twice (first by rule 1)"
    ]


def test_an_action_is_exactly_one_thing_and_referral_details_go_with_a_referral():
    text = GOOD.replace(
        "      - notify: supervisors\n", "      - notify: supervisors\n        due_within: 2h\n      - {}\n"
    )
    text += "  - id: both\n    when: {has: incident.urls}\n    then: [{notify: on_call, offer: report_remove}]\n"
    assert errors_of(text) == [
        "line 13, column 9, rule imminent-danger: 'due_within' qualifies a referral; it cannot go with 'notify'",
        "line 14, column 9, rule imminent-danger: {} should be non-empty",
        "line 14, column 9, rule imminent-danger: an action needs exactly one of refer, notify or offer (it has none)",
        "line 17, column 12, rule both: an action needs exactly one of refer, notify or offer"
        " (it has notify and offer)",
    ]


def test_a_referral_names_one_agency_or_one_kind():
    assert errors_of(
        GOOD.replace("{agency_kind: police, jurisdiction: case}", "{agency: iwf, agency_kind: police}")
    ) == ["line 7, column 16, rule imminent-danger: refer needs exactly one of agency (a code) or agency_kind"]
    assert errors_of(
        GOOD.replace("{agency_kind: police, jurisdiction: case}", "{agency: iwf, jurisdiction: KE-047}")
    ) == ["line 7, column 30, rule imminent-danger: jurisdiction goes with agency_kind; a named agency has its own"]
    assert errors_of(GOOD.replace("jurisdiction: case", "jurisdiction: nairobi")) == [
        "line 7, column 52, rule imminent-danger: 'nairobi' is not one of case, national (did you mean 'national'?)"
    ]


def test_category_codes_are_checked_against_the_active_taxonomy_when_known():
    text = GOOD.replace("when: {risk_level: [imminent]}", "when: {categories_any: [violence.ocsea.sextorsion]}")
    assert sop_check(text) == []  # no taxonomy known: only the shape of the code is checked
    known = {"violence", "violence.ocsea", "violence.ocsea.sextortion"}
    assert errors_of(text, known_categories=known) == [
        "line 5, column 29, rule imminent-danger: unknown category 'violence.ocsea.sextorsion' in the active"
        " taxonomy (did you mean 'violence.ocsea.sextortion'?)"
    ]
    nested = GOOD.replace("when: {risk_level: [imminent]}", "when: {not: {any: [{categories_all: violence.x}]}}")
    assert [e.path for e in sop_check(nested, known_categories=known)] == ["rules[0].when.not.any[0].categories_all"]


def test_several_mistakes_are_reported_together_in_order():
    text = GOOD.replace("[imminent]", "[iminent]").replace("due_within: 1h", "due_within: soon")
    text = text.replace("child.location", "child.adress")
    assert [(e.line, e.rule_id) for e in sop_check(text)] == [
        (5, "imminent-danger"),
        (8, "imminent-danger"),
        (11, "imminent-danger"),
    ]
    with pytest.raises(SopInvalid) as raised:
        sop_parse(text)
    assert len(raised.value.errors) == 3
    assert "line 5, column 25" in str(raised.value)


def test_a_document_built_to_exhaust_memory_is_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefghij":
        aliases = ", ".join([f"*{chr(ord(level) - 1)}"] * 10)
        bomb += f"{level}: &{level} [{aliases}]\n"
    assert errors_of(bomb) == ["document: the document has more than 50000 values"]
    assert errors_of("#" * (MAX_TEXT_CHARS + 1)) == [
        f"document: the document is longer than {MAX_TEXT_CHARS} characters"
    ]


def test_python_tags_build_nothing():
    errors = sop_check("sop: !!python/object/apply:os.system ['true']\nrules: []\n")
    assert errors and all("line" in str(error) for error in errors)


def test_the_published_schema_is_current(capsys):
    assert PUBLISHED_SCHEMA.read_text() == sop_schema_json(), "run: python manage.py sop_schema > docs/sop.schema.json"
    call_command("sop_schema")
    assert capsys.readouterr().out == sop_schema_json()
