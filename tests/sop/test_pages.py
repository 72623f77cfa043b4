"""The administrators' SOP pages as an administrator uses them (the matrix covers who is refused)."""

import pytest

from cases.models import Category, TaxonomyVersion
from helpline.audit.models import AuditEvent
from referrals.sop.demo import DEMO_SOP
from referrals.sop.models import SopStatus, SopVersion
from referrals.sop.services import sop_draft_save, sop_import

pytestmark = pytest.mark.django_db

DOC = "sop: pages\nrules:\n  - id: high\n    when: {risk_at_least: high}\n    then: [{notify: supervisors}]\n"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin_client(client, admin_user, verified_client):
    return verified_client(admin_user)


def test_the_list_shows_every_line_and_its_versions(admin_client, demo_line, other_line):
    sop_import(actor=None, line=demo_line, text=DOC, activate=True)
    sop_draft_save(actor=None, line=demo_line, text=DOC.replace("pages", "next"))
    page = admin_client.get("/sop/").content.decode()
    assert "Demo line" in page and "Other line" in page
    assert 'data-version="1"' in page and 'data-version="2"' in page
    assert "No SOP yet" in page  # the other line


def test_the_administrators_navigation_has_the_sop_page(admin_client):
    page = admin_client.get("/sop/").content.decode()
    assert '<a href="/sop/" aria-current="page">SOPs</a>' in page


def test_checking_as_one_types_lists_mistakes_with_line_and_column(admin_client, demo_line):
    response = admin_client.post("/sop/check/", {"text": DOC.replace("high}", "hihg}"), "line": "demo"}, headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 mistake" in page
    assert "line 4:27" in page and "rule high" in page and "did you mean &#x27;high&#x27;?" in page
    page = admin_client.post("/sop/check/", {"text": DOC, "line": "demo"}, headers=HTMX).content.decode()
    assert "No mistakes: 1 rule." in page
    assert not AuditEvent.objects.filter(action__startswith="sop.").exists()  # checking stores nothing


def test_checking_knows_the_taxonomy_of_the_line(admin_client, demo_line):
    version = TaxonomyVersion.objects.create(code="t1", title="T", active=True)
    Category.objects.create(version=version, code="violence", position=0)
    text = DOC.replace("{risk_at_least: high}", "{categories_any: [violense]}")
    page = admin_client.post("/sop/check/", {"text": text, "line": "demo"}, headers=HTMX).content.decode()
    assert "unknown category &#x27;violense&#x27; in the active taxonomy" in page


def test_a_new_draft_starts_from_the_active_version_and_saves(admin_client, demo_line, admin_user):
    page = admin_client.get("/sop/line/demo/new/").content.decode()
    assert "demo-online-abuse" in page  # no active SOP: the demo document to start from
    sop_import(actor=None, line=demo_line, text=DOC, activate=True)
    page = admin_client.get("/sop/line/demo/new/").content.decode()
    assert "sop: pages" in page
    response = admin_client.post("/sop/line/demo/new/", {"text": DOC.replace("pages", "mine"), "reason": "new"})
    draft = SopVersion.objects.get(number=2)
    assert response.status_code == 302 and response["Location"] == f"/sop/v/{draft.pk}/"
    assert (draft.status, draft.name, draft.created_by) == (SopStatus.DRAFT, "mine", admin_user.staff)
    assert AuditEvent.objects.filter(action="sop.draft_saved", reason="new").exists()


def test_saving_a_document_with_mistakes_keeps_the_text_and_shows_them(admin_client, demo_line):
    bad = DOC.replace("supervisors", "everybody")
    response = admin_client.post("/sop/line/demo/new/", {"text": bad})
    page = response.content.decode()
    assert response.status_code == 400
    assert "everybody" in page and "line 5:21" in page
    assert not SopVersion.objects.exists()


def test_a_draft_is_edited_but_an_active_version_is_read_only(admin_client, demo_line):
    active = sop_import(actor=None, line=demo_line, text=DOC, activate=True)
    draft = sop_draft_save(actor=None, line=demo_line, text=DOC)
    page = admin_client.get(f"/sop/v/{active.pk}/").content.decode()
    assert "readonly" in page and "Save draft" not in page
    assert admin_client.post(f"/sop/v/{active.pk}/", {"text": DOC.replace("pages", "x")}).status_code == 404
    assert SopVersion.objects.get(pk=active.pk).text == DOC
    response = admin_client.post(f"/sop/v/{draft.pk}/", {"text": DOC.replace("pages", "edited")})
    assert response.status_code == 302
    assert SopVersion.objects.get(pk=draft.pk).name == "edited"


def test_a_dry_run_shows_which_rules_fire_and_why(admin_client, demo_line):
    facts = (
        "categories: [violence.ocsea.sextortion]\nrisk_level: high\nage: 14\nregion: KE-047\n"
        "people: [{role: alleged_perpetrator, is_caregiver: true}]\n"
    )
    response = admin_client.post(
        "/sop/dry-run/", {"text": DEMO_SOP.read_text(), "line": "demo", "facts": facts}, headers=HTMX
    )
    page = response.content.decode()
    assert "2 of 5 rules fire." in page
    assert 'data-rule="sextortion-high-risk"' in page
    assert "Because: category violence.ocsea.sextortion (any of violence.ocsea.sextortion); risk level high" in page
    assert "Not: no category under any of violence.ocsea.csam_shared" in page
    assert "police (KE-047, else national)" in page
    assert "not the caregiver: the caregiver is recorded as the alleged perpetrator" in page
    assert not SopVersion.objects.exists() and not AuditEvent.objects.filter(action__startswith="sop.").exists()


def test_a_dry_run_takes_json_and_explains_bad_input(admin_client, demo_line):
    page = admin_client.post(
        "/sop/dry-run/", {"text": DOC, "line": "demo", "facts": '{"risk_level": "imminent"}'}, headers=HTMX
    ).content.decode()
    assert "1 of 1 rule fires." in page
    page = admin_client.post("/sop/dry-run/", {"text": DOC, "facts": "[1, 2"}, headers=HTMX).content.decode()
    assert "The facts are not valid YAML or JSON." in page
    page = admin_client.post("/sop/dry-run/", {"text": DOC, "facts": "- a list"}, headers=HTMX).content.decode()
    assert "The facts must be a mapping" in page
    page = admin_client.post("/sop/dry-run/", {"text": "sop: [", "facts": "{}"}, headers=HTMX).content.decode()
    assert "Fix the document&#x27;s mistakes first." in page


def test_compare_shows_what_changed_between_two_versions(admin_client, demo_line):
    sop_import(actor=None, line=demo_line, text=DOC, activate=True)
    sop_draft_save(actor=None, line=demo_line, text=DOC.replace("supervisors", "on_call"))
    page = admin_client.get("/sop/line/demo/compare/").content.decode()
    assert '<span class="diff-removed"><span class="visually-hidden">removed: </span>' in page
    assert "-    then: [{notify: supervisors}]" in page and "+    then: [{notify: on_call}]" in page
    page = admin_client.get("/sop/line/demo/compare/?a=1&b=1").content.decode()
    assert "No differences." in page
    assert admin_client.get("/sop/line/demo/compare/?a=x&b=9").status_code == 200


def test_activation_asks_for_confirmation_and_a_reason(admin_client, demo_line, admin_user):
    first = sop_import(actor=None, line=demo_line, text=DOC, activate=True)
    draft = sop_draft_save(actor=None, line=demo_line, text=DOC.replace("supervisors", "on_call"))
    page = admin_client.get(f"/sop/v/{draft.pk}/activate/").content.decode()
    assert "Version 1 is active now; it will be retired." in page and "+    then: [{notify: on_call}]" in page
    assert SopVersion.objects.get(pk=draft.pk).status == SopStatus.DRAFT  # looking changes nothing
    response = admin_client.post(f"/sop/v/{draft.pk}/activate/", {"reason": ""})
    assert response.status_code == 400
    assert SopVersion.objects.get(pk=draft.pk).status == SopStatus.DRAFT
    response = admin_client.post(f"/sop/v/{draft.pk}/activate/", {"reason": "on-call rota"}, follow=True)
    assert "Version 2 is now the active SOP of Demo line." in response.content.decode()
    assert SopVersion.objects.get(pk=draft.pk).status == SopStatus.ACTIVE
    assert SopVersion.objects.get(pk=first.pk).status == SopStatus.RETIRED
    event = AuditEvent.objects.get(action="sop.activated", reason="on-call rota")
    assert event.actor_username == admin_user.username
