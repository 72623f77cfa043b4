"""The wrap-up pane beside a conversation (registered with ``helpline.panes`` in CasesConfig.ready).

The pane autosaves a draft as the counsellor types (``wrapup_save``), so a reload or a
closed tab loses nothing; "Finish" validates and closes a contact that has ended. From
the pane the counsellor opens a new case or links the contact to an existing one:
earlier cases of the same sender are offered through the blind index, never the number.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.errors import CaseError
from cases.forms import WrapupForm
from cases.models import Case, ContactWrapup, WrapupStatus
from cases.models.choices import WEBCHAT_AGE_BANDS
from cases.references import reference_normalise
from cases.selectors import wrapup_summary_read
from cases.selectors.repeats import repeat_cases_for_sender, wrapup_held_by
from cases.selectors.taxonomy import categories_of, line_regions, taxonomy_for_line
from cases.services.cases import case_contact_link, case_open, cases_linkable_for
from cases.services.wrapups import WrapupValues, wrapup_draft_save, wrapup_finalise, wrapup_open
from helpline.access import role_required
from helpline.models import ContactStatus, Role
from helpline.selectors import contacts_writable_by

PANE_TEMPLATE = "cases/wrapup_pane.html"
REPEATS_SHOWN = 5


def category_groups(categories, chosen) -> list[dict]:
    """Top-level categories with their descendants, for a grouped list of checkboxes."""
    groups, current = [], None
    for category in categories:
        if category.depth == 0:
            current = {"category": category, "children": [], "open": False}
            groups.append(current)
        elif current is not None:
            current["children"].append(category)
        if category.code in chosen and current is not None:
            current["open"] = True
    return groups


def _wrapup_of(contact) -> ContactWrapup | None:
    return ContactWrapup.objects.filter(contact=contact).select_related("data_key", "case", "taxonomy_version").first()


def wrapup_context(request, contact, *, wrapup=None, values=None, error="", notice="") -> dict:
    wrapup = wrapup if wrapup is not None else _wrapup_of(contact)
    if values is None:
        if wrapup is not None:
            values = WrapupValues.of(wrapup, summary=wrapup_summary_read(user=request.user, wrapup=wrapup))
        else:
            values = WrapupValues(age_band=WEBCHAT_AGE_BANDS.get(contact.age_band, ""))
    version = (
        wrapup.taxonomy_version if wrapup is not None and wrapup.taxonomy_version else taxonomy_for_line(contact.line)
    )
    regions = line_regions(contact.line)
    categories = categories_of(version)
    repeats = Case.objects.none()
    staff = request.user.staff
    if contact.counsellor_id == staff.pk and (wrapup is None or wrapup_held_by(wrapup, staff)):
        repeats = repeat_cases_for_sender(line_id=contact.line_id, index=contact.sender_index, wrapup=wrapup)
    return {
        "contact": contact,
        "wrapup": wrapup,
        "values": values,
        "form": WrapupForm(initial=values.__dict__, regions=regions, categories=categories),
        "category_groups": category_groups(categories, set(values.categories)),
        "chosen_categories": set(values.categories),
        "regions": regions,
        "repeats": list(repeats.select_related("counsellor__user")[:REPEATS_SHOWN]),
        "linked_case": wrapup.case if wrapup is not None else None,
        "final": wrapup is not None and wrapup.status == WrapupStatus.FINAL,
        "error": error,
        "notice": notice,
    }


def wrapup_pane_context(request, contact) -> dict:
    """The console pane hook's context function."""
    return wrapup_context(request, contact)


def _held(request, contact_id):
    return get_object_or_404(contacts_writable_by(request.user).select_related("line", "data_key"), pk=contact_id)


def _form(request, contact, wrapup) -> WrapupForm:
    version = wrapup.taxonomy_version if wrapup.taxonomy_version else taxonomy_for_line(contact.line)
    return WrapupForm(request.POST, regions=line_regions(contact.line), categories=categories_of(version))


def _pane(request, contact, *, status=200, **kwargs) -> HttpResponse:
    if not request.htmx:
        if kwargs.get("error"):
            messages.error(request, kwargs["error"])
        elif kwargs.get("notice"):
            messages.success(request, kwargs["notice"])
        return redirect("helpline:console_conversation", contact.pk)
    return render(request, PANE_TEMPLATE, wrapup_context(request, contact, **kwargs), status=status)


def _posted(request, contact_id):
    """The held contact, its wrap-up (opened if needed) and the posted values; CaseError on bad input."""
    contact = _held(request, contact_id)
    wrapup = _wrapup_of(contact) or wrapup_open(actor=request.user.staff, contact=contact)
    form = _form(request, contact, wrapup)
    if not form.is_valid():
        raise CaseError(
            _("Check the wrap-up: %(fields)s.")
            % {"fields": ", ".join(str(form.fields[name].label) for name in form.errors)}
        )
    return contact, wrapup, form.values()


@role_required(Role.COUNSELLOR, Role.SUPERVISOR)
@require_POST
def wrapup_save(request, contact_id):
    """Autosave: the draft as it stands; answers with a short status line."""
    try:
        _contact, wrapup, values = _posted(request, contact_id)
        wrapup_draft_save(actor=request.user.staff, wrapup=wrapup, values=values)
    except CaseError as error:
        return render(request, "cases/wrapup_status.html", {"error": str(error)}, status=422)
    return render(request, "cases/wrapup_status.html", {"saved": True})


@role_required(Role.COUNSELLOR, Role.SUPERVISOR)
@require_POST
def wrapup_finish(request, contact_id):
    contact = _held(request, contact_id)
    try:
        contact, wrapup, values = _posted(request, contact_id)
        wrapup = wrapup_finalise(actor=request.user.staff, wrapup=wrapup, values=values)
    except CaseError as error:
        return _pane(request, contact, status=422, error=str(error), values=_values_or_none(request, contact))
    contact.refresh_from_db()
    if contact.status == ContactStatus.CLOSED:
        messages.success(request, _("Wrap-up finished and the conversation closed."))
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": reverse("helpline:console")})
        return redirect("helpline:console")
    return _pane(request, contact, notice=_("Wrap-up finished."))


def _values_or_none(request, contact):
    wrapup = _wrapup_of(contact)
    if wrapup is None:
        return None
    form = _form(request, contact, wrapup)
    return form.values() if form.is_valid() else None


@role_required(Role.COUNSELLOR, Role.SUPERVISOR)
@require_POST
def wrapup_case_open(request, contact_id):
    contact = _held(request, contact_id)
    try:
        contact, wrapup, values = _posted(request, contact_id)
        wrapup = wrapup_draft_save(actor=request.user.staff, wrapup=wrapup, values=values)
        case = case_open(actor=request.user.staff, wrapup=wrapup)
    except CaseError as error:
        return _pane(request, contact, status=422, error=str(error))
    return _pane(request, contact, notice=_("Case %(reference)s opened.") % {"reference": case.reference})


@role_required(Role.COUNSELLOR, Role.SUPERVISOR)
@require_POST
def wrapup_case_link(request, contact_id):
    contact = _held(request, contact_id)
    try:
        contact, wrapup, values = _posted(request, contact_id)
        wrapup = wrapup_draft_save(actor=request.user.staff, wrapup=wrapup, values=values)
        case = _case_to_link(request, wrapup)
        case_contact_link(actor=request.user.staff, case=case, wrapup=wrapup)
    except CaseError as error:
        return _pane(request, contact, status=422, error=str(error))
    return _pane(request, contact, notice=_("Linked to case %(reference)s.") % {"reference": case.reference})


def _case_to_link(request, wrapup) -> Case:
    linkable = cases_linkable_for(request.user.staff, wrapup)
    chosen = request.POST.get("case", "")
    if chosen.isdigit():
        case = linkable.filter(pk=int(chosen)).first()
    else:
        reference = reference_normalise(request.POST.get("reference", ""))
        if reference is None:
            raise CaseError(_("That is not a case reference (check the last character)."))
        case = linkable.filter(reference=reference).first()
    if case is None:
        raise CaseError(_("No case you can link to has that reference."))
    return case
