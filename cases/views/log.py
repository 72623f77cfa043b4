"""Contacts from outside the platform (a phone call, a walk-in, a letter, an email), logged by hand.

The same wrap-up as in the console, the channel recorded, and optionally on behalf of a
colleague of the line. The caller's number, if typed, becomes a blind index (repeat
contacts) and is never stored or shown.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cases.errors import CaseError
from cases.forms import ContactLogForm
from cases.references import reference_normalise
from cases.selectors.taxonomy import categories_of, line_regions, taxonomy_for_line
from cases.services.cases import case_contact_link, case_open, cases_linkable_for
from cases.services.wrapups import contact_log
from cases.views.wrapup import category_groups
from helpline.access import role_required
from helpline.models import Role, Staff


def _colleagues(staff):
    return (
        Staff.objects.filter(lines__in=staff.lines.all(), role__in=[Role.COUNSELLOR, Role.SUPERVISOR])
        .distinct()
        .select_related("user")
        .order_by("user__username")
    )


@role_required(Role.COUNSELLOR, Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
def contact_log_page(request):
    staff = request.user.staff
    lines = list(staff.lines.order_by("name"))
    line = lines[0] if lines else None
    if request.method == "POST" and request.POST.get("line", "").isdigit():
        line = next((item for item in lines if item.pk == int(request.POST["line"])), line)
    version = taxonomy_for_line(line) if line else None
    categories = categories_of(version)
    kwargs = {
        "lines": lines,
        "colleagues": _colleagues(staff),
        "regions": line_regions(line) if line else [],
        "categories": categories,
    }
    if request.method == "POST":
        form = ContactLogForm(request.POST, **kwargs)
        if form.is_valid():
            done = _log(request, form, line)
            if done is not None:
                return done
        else:
            messages.error(request, _("Check the highlighted fields."))
    else:
        form = ContactLogForm(initial={"counsellor": staff.pk, "line": line.pk if line else None}, **kwargs)
    chosen = set(form.data.getlist("categories")) if form.is_bound else set()
    return render(
        request,
        "cases/contact_log.html",
        {"form": form, "category_groups": category_groups(categories, chosen), "chosen_categories": chosen},
    )


def _log(request, form, line):
    staff = request.user.staff
    data = form.cleaned_data
    counsellor = Staff.objects.filter(pk=data["counsellor"]).first()
    occurred_at = data.get("occurred_at") or timezone.now()
    try:
        wrapup = contact_log(
            actor=staff,
            line=line,
            channel=data["channel"],
            values=form.values(),
            occurred_at=occurred_at,
            counsellor=counsellor,
            caller_phone=data.get("caller_phone", ""),
        )
    except CaseError as error:
        messages.error(request, str(error))
        return None
    if "open_case" in request.POST:
        try:
            case = case_open(actor=staff, wrapup=wrapup)
        except CaseError as error:
            messages.error(request, str(error))
            return redirect("cases:contact_log")
        messages.success(request, _("Contact logged and case %(reference)s opened.") % {"reference": case.reference})
        return redirect("cases:case_detail", case.pk)
    reference = reference_normalise(data.get("reference", "")) if data.get("reference") else None
    if data.get("reference"):
        case = cases_linkable_for(staff, wrapup).filter(reference=reference).first() if reference else None
        if case is None:
            messages.error(request, _("The contact is logged, but no case you can link to has that reference."))
            return redirect("cases:contact_log")
        try:
            case_contact_link(actor=staff, case=case, wrapup=wrapup)
        except CaseError as error:
            messages.error(request, str(error))
            return redirect("cases:contact_log")
        messages.success(request, _("Contact logged and linked to case %(reference)s.") % {"reference": case.reference})
        return redirect("cases:case_detail", case.pk)
    messages.success(request, _("Contact logged."))
    return redirect("cases:contact_log")
