"""SOP versions per line: drafts, activation (one active, the old one retired), import, export, the demo."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from cases.models import Category, LineCaseSettings, TaxonomyVersion
from helpline.audit.models import AuditEvent
from helpline.demo import demo_seed
from referrals.sop.demo import DEMO_SOP, sop_demo_load
from referrals.sop.document import SopInvalid
from referrals.sop.engine import evaluate
from referrals.sop.models import SopStatus, SopVersion
from referrals.sop.selectors import sop_active_for, sop_active_version
from referrals.sop.services import SopNotEditable, sop_activate, sop_draft_save, sop_import
from tests.sop.test_engine import BASE_FACTS

pytestmark = pytest.mark.django_db

DOC = """\
# Kept as written: comments too.
sop: test-sop
rules:
  - id: high-risk
    when: {risk_at_least: high}
    then:
      - notify: supervisors
"""


def doc(rule_id="high-risk", name="test-sop"):
    return DOC.replace("high-risk", rule_id).replace("test-sop", name)


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def test_drafts_are_numbered_per_line_and_audited(admin_user, demo_line, other_line):
    first = sop_draft_save(actor=admin_user, line=demo_line, text=doc())
    second = sop_draft_save(actor=admin_user, line=demo_line, text=doc(name="second"))
    elsewhere = sop_draft_save(actor=admin_user, line=other_line, text=doc())
    assert [(v.number, v.status, v.name) for v in (first, second, elsewhere)] == [
        (1, "draft", "test-sop"),
        (2, "draft", "second"),
        (1, "draft", "test-sop"),
    ]
    assert first.text == doc()  # comments and layout are kept
    assert first.created_by == admin_user.staff
    [event, *_] = events("sop.draft_saved")
    assert event.actor_username == admin_user.username
    assert event.details == {"line": "demo", "number": 1, "rules": 1, "new": True}
    assert "supervisors" not in str(event.details)  # the numbers, not the text


def test_a_draft_is_edited_in_place_but_an_active_or_retired_version_never(admin_user, demo_line):
    draft = sop_draft_save(actor=admin_user, line=demo_line, text=doc())
    edited = sop_draft_save(actor=admin_user, line=demo_line, text=doc("renamed"), version=draft)
    assert (edited.pk, edited.number, "renamed" in edited.text) == (draft.pk, 1, True)
    sop_activate(actor=admin_user, version=edited)
    with pytest.raises(SopNotEditable):
        sop_draft_save(actor=admin_user, line=demo_line, text=doc("again"), version=edited)
    sop_activate(actor=admin_user, version=sop_draft_save(actor=admin_user, line=demo_line, text=doc()))
    edited.refresh_from_db()
    assert edited.status == SopStatus.RETIRED
    with pytest.raises(SopNotEditable):
        sop_draft_save(actor=admin_user, line=demo_line, text=doc("again"), version=edited)
    assert "renamed" in SopVersion.objects.get(pk=edited.pk).text


def test_an_invalid_document_is_never_stored(admin_user, demo_line):
    with pytest.raises(SopInvalid) as raised:
        sop_draft_save(actor=admin_user, line=demo_line, text=DOC.replace("risk_at_least: high", "risk_at_least: hihg"))
    assert str(raised.value.errors[0]).startswith("line 5, column 27, rule high-risk:")
    assert not SopVersion.objects.exists()
    assert not events("sop.draft_saved")


def test_a_draft_of_one_line_is_not_edited_through_another(admin_user, demo_line, other_line):
    draft = sop_draft_save(actor=admin_user, line=demo_line, text=doc())
    with pytest.raises(SopVersion.DoesNotExist):
        sop_draft_save(actor=admin_user, line=other_line, text=doc("x"), version=draft)


def test_activation_retires_the_active_version_in_the_same_step(admin_user, demo_line):
    one = sop_import(actor=admin_user, line=demo_line, text=doc("one"), activate=True)
    two = sop_draft_save(actor=admin_user, line=demo_line, text=doc("two"))
    sop_activate(actor=admin_user, version=two, reason="new pathway")
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.status, two.status) == (SopStatus.RETIRED, SopStatus.ACTIVE)
    assert one.retired_at == two.activated_at
    assert two.activated_by == admin_user.staff
    activated = events("sop.activated")
    assert [event.details for event in activated] == [
        {"line": "demo", "number": 1, "name": "test-sop", "previous": None},
        {"line": "demo", "number": 2, "name": "test-sop", "previous": 1},
    ]
    assert activated[1].reason == "new pathway"
    # Rolling back: a retired version can be activated again.
    sop_activate(actor=admin_user, version=one)
    assert sop_active_version(demo_line).pk == one.pk
    assert SopVersion.objects.get(pk=two.pk).status == SopStatus.RETIRED
    # Activating the active version again changes nothing.
    before = AuditEvent.objects.count()
    sop_activate(actor=admin_user, version=one)
    assert AuditEvent.objects.count() == before


def test_the_database_refuses_two_active_versions_of_a_line(admin_user, demo_line, other_line):
    one = sop_import(actor=admin_user, line=demo_line, text=doc(), activate=True)
    two = sop_draft_save(actor=admin_user, line=demo_line, text=doc())
    with pytest.raises(IntegrityError), transaction.atomic():
        SopVersion.objects.filter(pk=two.pk).update(status=SopStatus.ACTIVE, activated_at=one.activated_at)
    # Another line has its own active version.
    sop_import(actor=admin_user, line=other_line, text=doc(), activate=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        SopVersion.objects.filter(pk=two.pk).update(status=SopStatus.ACTIVE, activated_at=None)
    assert SopVersion.objects.filter(status=SopStatus.ACTIVE).count() == 2


def test_only_administrators_change_sops(counsellor, supervisor, authority, demo_line, admin_user):
    draft = sop_draft_save(actor=admin_user, line=demo_line, text=doc())
    for user in (counsellor, supervisor, authority):
        with pytest.raises(PermissionDenied):
            sop_draft_save(actor=user, line=demo_line, text=doc())
        with pytest.raises(PermissionDenied):
            sop_draft_save(actor=user, line=demo_line, text=doc("x"), version=draft)
        with pytest.raises(PermissionDenied):
            sop_activate(actor=user, version=draft)
        with pytest.raises(PermissionDenied):
            sop_import(actor=user, line=demo_line, text=doc(), activate=True)
    assert SopVersion.objects.get().status == SopStatus.DRAFT


def _taxonomy(codes, *, active=True):
    version = TaxonomyVersion.objects.create(code=f"t-{len(codes)}-{active}", title="Test", active=active)
    for position, code in enumerate(codes):
        Category.objects.create(version=version, code=code, position=position, depth=code.count("."))
    return version


def test_category_codes_are_checked_against_the_taxonomy_the_line_uses(admin_user, demo_line):
    text = DOC.replace("{risk_at_least: high}", "{categories_any: [violence.ocsea.sextortion]}")
    sop_draft_save(actor=admin_user, line=demo_line, text=text)  # no taxonomy yet: the shape only
    _taxonomy(["violence", "violence.ocsea", "violence.ocsea.sextortion"])
    sop_draft_save(actor=admin_user, line=demo_line, text=text)
    line_own = _taxonomy(["violence", "violence.ocsea"], active=False)
    LineCaseSettings.objects.create(line=demo_line, taxonomy=line_own)
    with pytest.raises(SopInvalid) as raised:
        sop_draft_save(actor=admin_user, line=demo_line, text=text)
    assert "unknown category 'violence.ocsea.sextortion' in the active taxonomy" in str(raised.value)


def test_sop_active_for_gives_the_parsed_active_version(admin_user, demo_line, other_line):
    assert sop_active_for(demo_line) is None
    sop_draft_save(actor=admin_user, line=demo_line, text=doc())
    assert sop_active_for(demo_line) is None  # a draft proposes nothing
    sop_import(actor=admin_user, line=demo_line, text=doc("first"), activate=True)
    sop = sop_active_for(demo_line)
    assert (sop.name, sop.version, [rule.id for rule in sop.rules]) == ("test-sop", 2, ["first"])
    assert [p.rule_id for p in evaluate(BASE_FACTS, sop)] == ["first"]
    sop_import(actor=admin_user, line=demo_line, text=doc("second"), activate=True)
    assert [rule.id for rule in sop_active_for(demo_line).rules] == ["second"]
    assert sop_active_for(other_line) is None


def test_import_command_reports_mistakes_with_their_lines(tmp_path, demo_line, capsys):
    path = tmp_path / "sop.yaml"
    path.write_text(DOC.replace("supervisors", "everyone"))
    with pytest.raises(CommandError) as raised:
        call_command("sop_import", str(path), "--line", "demo")
    assert f"{path}: line 7, column 17, rule high-risk: 'everyone' is not one of" in str(raised.value)
    with pytest.raises(CommandError, match="No line with the slug 'nowhere'"):
        call_command("sop_import", str(path), "--line", "nowhere")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("sop_import", str(tmp_path / "missing.yaml"), "--line", "demo")
    assert not SopVersion.objects.exists()


def test_import_and_export_commands_round_trip(tmp_path, demo_line, capsys):
    path = tmp_path / "sop.yaml"
    path.write_text(DEMO_SOP.read_text())
    call_command("sop_import", str(path), "--line", "demo")
    assert "version 1 of demo, a draft" in capsys.readouterr().out
    assert sop_active_for(demo_line) is None
    call_command("sop_import", str(path), "--line", "demo", "--activate", "--reason", "pathways of 2026")
    assert "version 2 of demo, active" in capsys.readouterr().out
    imported = events("sop.imported")[-1]
    assert imported.actor_username == "" and imported.reason == "pathways of 2026"

    call_command("sop_export", "--line", "demo")
    exported = capsys.readouterr().out
    assert exported == DEMO_SOP.read_text().replace("version: 1", "version: 2")  # comments kept, number the platform's
    call_command("sop_export", "--line", "demo", "--number", "1", "--output", str(tmp_path / "out.yaml"))
    assert (tmp_path / "out.yaml").read_text() == DEMO_SOP.read_text()
    assert len(events("sop.exported")) == 2
    with pytest.raises(CommandError, match="no SOP version 9"):
        call_command("sop_export", "--line", "demo", "--number", "9")


def test_export_adds_the_version_when_the_document_has_none(admin_user, demo_line, other_line, capsys):
    sop_import(actor=admin_user, line=demo_line, text=doc(), activate=True)
    call_command("sop_export", "--line", "demo")
    assert capsys.readouterr().out == DOC.replace("sop: test-sop\n", "sop: test-sop\nversion: 1\n")
    with pytest.raises(CommandError, match="has no active SOP"):
        call_command("sop_export", "--line", "other")


def test_the_demo_sop_is_loaded_once_and_active(demo_line):
    sop_demo_load(demo_line)
    sop_demo_load(demo_line)
    assert SopVersion.objects.filter(line=demo_line).count() == 1
    sop = sop_active_for(demo_line)
    assert [rule.id for rule in sop.rules] == [
        "imminent-danger",
        "sextortion-high-risk",
        "csam-url",
        "self-generated-imagery-minor",
        "caregiver-perpetrator",
    ]


def test_seed_demo_loads_the_demo_sop(db):
    demo_seed()
    demo_seed()
    version = SopVersion.objects.get(line__slug="demo")
    assert (version.status, version.name) == (SopStatus.ACTIVE, "demo-online-abuse")
