"""The case page: details, people, notes, flags, timeline; and its printable summary.

Every view finds the case inside ``cases_visible_to(user)`` (404 otherwise) and reads
its content only through ``cases.selectors.case_read``, which audits the read. Writes
are plain POST forms (no script needed) that redirect back to the page.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cases.errors import CaseError
from cases.forms import FactsForm, FlagForm, NoteForm, PersonForm, PersonRemoveForm, StatusForm
from cases.models import CaseFlag, CaseNote, CasePerson, CaseStatus
from cases.selectors import case_read, cases_visible_to, supervises_case
from cases.selectors.taxonomy import categories_of, category_labels, line_regions
from cases.services.cases import case_facts_update, case_status_change
from cases.services.flags import case_flag_raise, case_flag_remove
from cases.services.notes import case_note_add
from cases.services.people import case_person_add, case_person_remove, case_person_update, person_removable_by
from cases.timeline import TimelineEntry, timeline_entry_of, timeline_sources
from cases.views.wrapup import category_groups
from helpline.access import role_required
from helpline.models import Role

CASE_ROLES = (Role.COUNSELLOR, Role.SUPERVISOR)
READ_REASON = "Case page opened"
PRINT_REASON = "Case summary printed"


def _case(request, case_id):
    return get_object_or_404(cases_visible_to(request.user).select_related("line"), pk=case_id)


def _who(staff) -> str:
    if staff is None:
        return _("the system")
    return staff.user.get_full_name() or staff.user.get_username()


def case_timeline(content) -> list[TimelineEntry]:
    """The case's own entries and those of registered sources (referrals), oldest first."""
    entries = []
    for item in content.contacts:
        wrapup = item["wrapup"]
        title = _("Contact: %(channel)s") % {"channel": wrapup.get_channel_display()}
        if wrapup.call_type:
            title += f" · {wrapup.get_call_type_display()}"
        entries.append(TimelineEntry(at=wrapup.occurred_at, kind="contact", title=title, actor=_who(wrapup.counsellor)))
    for item in content.notes:
        note = item["note"]
        title = _("Correction of an earlier note") if note.corrects_id else _("Note")
        entries.append(
            TimelineEntry(at=note.created_at, kind="note", title=title, detail=item["body"], actor=_who(note.author))
        )
    for item in content.status_changes:
        change = item["change"]
        title = _("Status: %(status)s") % {"status": change.get_to_status_display()}
        entries.append(
            TimelineEntry(
                at=change.created_at, kind="status", title=title, detail=item["reason"], actor=_who(change.actor)
            )
        )
    for item in content.flags:
        flag = item["flag"]
        entries.append(
            TimelineEntry(
                at=flag.raised_at,
                kind="flag",
                title=_("Flag raised"),
                detail=item["message"],
                actor=_who(flag.raised_by),
            )
        )
        if flag.removed_at:
            entries.append(
                TimelineEntry(at=flag.removed_at, kind="flag", title=_("Flag removed"), actor=_who(flag.removed_by))
            )
    for item in content.removed_people:
        person = item["person"]
        entries.append(
            TimelineEntry(
                at=person.removed_at,
                kind="person",
                title=_("Person removed: %(role)s") % {"role": person.get_role_display()},
                detail=item["reason"],
                actor=_who(person.removed_by),
            )
        )
    for item in content.contacts:
        link = item["link"]
        if link.via_repeat:
            entries.append(
                TimelineEntry(
                    at=link.linked_at,
                    kind="repeat_access",
                    title=_("Reached through a repeat contact of the same sender"),
                    actor=_who(link.linked_by),
                )
            )
    for source in timeline_sources():
        entries.extend(timeline_entry_of(item) for item in source(content.case))
    return sorted(entries, key=lambda entry: entry.at)


def _person_initial(item) -> dict:
    person = item["person"]
    facts = {name: getattr(person, name) for name in ("role", "relationship", "age_band", "age", "gender", "region")}
    texts = {name: item[name] for name in ("name", "phone", "location", "details")}
    return {**facts, **texts, "is_caregiver": person.is_caregiver, "online_identifiers": item["online_text"]}


def _page_context(request, content) -> dict:
    case = content.case
    categories = categories_of(case.taxonomy_version)
    regions = line_regions(case.line)
    facts_initial = {
        "risk_level": case.risk_level,
        "categories": case.categories,
        "platform": case.platform,
        "imagery_exists": case.imagery_exists,
        "immediate_danger": case.immediate_danger,
        "occurred_on": case.occurred_on,
        "summary": content.incident["summary"],
        "urls": "\n".join(content.incident["urls"]),
    }
    staff = request.user.staff
    is_supervisor = supervises_case(request.user, case)
    people = [
        {
            **item,
            "form": PersonForm(
                initial=_person_initial(item), regions=regions, auto_id=f"person-{item['person'].pk}-%s"
            ),
            "removable": person_removable_by(staff, case, item["person"], supervises=is_supervisor),
        }
        for item in content.people
    ]
    return {
        "case": case,
        "content": content,
        "people": people,
        "remove_form": PersonRemoveForm(),
        "repeat_access": [
            item["link"]
            for item in content.contacts
            if item["link"].via_repeat and item["link"].linked_by_id == staff.pk
        ],
        "category_names": category_labels(case.categories, versions=[case.taxonomy_version]),
        "timeline": case_timeline(content),
        "active_flags": [item for item in content.flags if item["flag"].is_active],
        "is_supervisor": is_supervisor,
        "person_form": PersonForm(regions=regions),
        "note_form": NoteForm(),
        "flag_form": FlagForm(),
        "facts_form": FactsForm(initial=facts_initial, categories=categories),
        "category_groups": category_groups(categories, set(case.categories)),
        "chosen_categories": set(case.categories),
        "can_start": case.status in (CaseStatus.OPEN, CaseStatus.REOPENED),
        "can_reopen": case.status == CaseStatus.CLOSED and not content.destroyed,
    }


@role_required(*CASE_ROLES)
@require_GET
@never_cache
def case_detail(request, case_id):
    case = _case(request, case_id)
    content = case_read(user=request.user, case=case, reason=READ_REASON, request=request)
    return render(request, "cases/case_detail.html", _page_context(request, content))


@role_required(*CASE_ROLES)
@require_GET
@never_cache
def case_print(request, case_id):
    case = _case(request, case_id)
    content = case_read(user=request.user, case=case, reason=PRINT_REASON, request=request, printed=True)
    context = {
        "case": content.case,
        "content": content,
        "category_names": category_labels(content.case.categories, versions=[content.case.taxonomy_version]),
        "timeline": case_timeline(content),
    }
    return render(request, "cases/case_print.html", context)


def _back(case):
    return redirect("cases:case_detail", case.pk)


def _refused(request, case, error) -> object:
    messages.error(request, str(error))
    return _back(case)


def _invalid(request, case):
    messages.error(request, _("Check the form: something was missing or too long."))
    return _back(case)


@role_required(*CASE_ROLES)
@require_POST
def case_person(request, case_id):
    case = _case(request, case_id)
    form = PersonForm(request.POST, regions=line_regions(case.line))
    if not form.is_valid():
        return _invalid(request, case)
    try:
        case_person_add(actor=request.user.staff, case=case, **form.cleaned_data)
    except CaseError as error:
        return _refused(request, case, error)
    messages.success(request, _("Person added."))
    return _back(case)


def _person(case, person_id) -> CasePerson:
    return get_object_or_404(CasePerson.objects.select_related("case"), pk=person_id, case=case, removed_at=None)


@role_required(*CASE_ROLES)
@require_POST
def case_person_edit(request, case_id, person_id):
    case = _case(request, case_id)
    person = _person(case, person_id)
    form = PersonForm(request.POST, regions=line_regions(case.line))
    if not form.is_valid():
        return _invalid(request, case)
    try:
        case_person_update(actor=request.user.staff, person=person, **form.cleaned_data)
    except CaseError as error:
        return _refused(request, case, error)
    messages.success(request, _("Person changed."))
    return _back(case)


@role_required(*CASE_ROLES)
@require_POST
def case_person_removal(request, case_id, person_id):
    case = _case(request, case_id)
    person = _person(case, person_id)
    form = PersonRemoveForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case)
    try:
        case_person_remove(actor=request.user.staff, person=person, reason=form.cleaned_data["reason"])
    except CaseError as error:
        return _refused(request, case, error)
    messages.success(request, _("Person removed from the case."))
    return _back(case)


@role_required(*CASE_ROLES)
@require_POST
def case_note(request, case_id):
    case = _case(request, case_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case)
    corrects = None
    if form.cleaned_data.get("corrects"):
        corrects = get_object_or_404(CaseNote, pk=form.cleaned_data["corrects"], case=case)
    try:
        case_note_add(actor=request.user.staff, case=case, body=form.cleaned_data["body"], corrects=corrects)
    except CaseError as error:
        return _refused(request, case, error)
    messages.success(request, _("Correction added.") if corrects else _("Note added."))
    return _back(case)


@role_required(*CASE_ROLES)
@require_POST
def case_facts_edit(request, case_id):
    case = _case(request, case_id)
    form = FactsForm(request.POST, categories=categories_of(case.taxonomy_version))
    if not form.is_valid():
        return _invalid(request, case)
    data = form.cleaned_data
    try:
        case_facts_update(
            actor=request.user.staff,
            case=case,
            risk_level=data["risk_level"],
            categories=data["categories"],
            platform=data["platform"],
            imagery_exists=data["imagery_exists"],
            immediate_danger=data["immediate_danger"],
            occurred_on=data["occurred_on"],
            summary=data["summary"],
            urls=data["urls"].splitlines(),
        )
    except CaseError as error:
        return _refused(request, case, error)
    messages.success(request, _("Case details saved."))
    return _back(case)


@role_required(*CASE_ROLES)
@require_POST
def case_status(request, case_id):
    case = _case(request, case_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case)
    try:
        case_status_change(
            actor=request.user.staff,
            case=case,
            to_status=form.cleaned_data["to_status"],
            reason=form.cleaned_data["reason"],
        )
    except CaseError as error:
        return _refused(request, case, error)
    messages.success(request, _("Status changed."))
    return _back(case)


@role_required(Role.SUPERVISOR)
@require_POST
def case_flag(request, case_id):
    case = _case(request, case_id)
    form = FlagForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case)
    try:
        case_flag_raise(actor=request.user.staff, case=case, message=form.cleaned_data["message"])
    except CaseError as error:
        return _refused(request, case, error)
    messages.success(request, _("Flag raised."))
    return _back(case)


@role_required(Role.SUPERVISOR)
@require_POST
def case_flag_removal(request, case_id, flag_id):
    case = _case(request, case_id)
    flag = get_object_or_404(CaseFlag, pk=flag_id, case=case)
    try:
        case_flag_remove(actor=request.user.staff, flag=flag)
    except CaseError as error:
        return _refused(request, case, error)
    messages.success(request, _("Flag removed."))
    return _back(case)
