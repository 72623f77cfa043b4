"""The resource list: the agency directory searched by need, language and region, and "signposted"
recorded on a contact (information given, no referral)."""

import uuid

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from helpline.access import role_required
from helpline.models import Role
from helpline.selectors import contacts_writable_by
from referrals.models import Agency
from referrals.selectors import agencies_search
from referrals.services.signposting import contact_signpost

STAFF = (Role.COUNSELLOR, Role.SUPERVISOR)


class SearchForm(forms.Form):
    need = forms.CharField(label=_("Need (category code)"), required=False, max_length=120)
    language = forms.CharField(label=_("Language"), required=False, max_length=8)
    region = forms.CharField(label=_("Region"), required=False, max_length=32)


@role_required(*STAFF)
@require_GET
@never_cache
def resources(request):
    form = SearchForm(request.GET or None)
    criteria = form.cleaned_data if form.is_valid() else {}
    agencies = agencies_search(**{key: value.strip() for key, value in criteria.items() if value})[:50]
    template = "referrals/resource_results.html" if request.htmx else "referrals/resources.html"
    context = {"form": form, "agencies": agencies, "contact_id": _contact_id(request.GET.get("contact"))}
    return render(request, template, context)


def _contact_id(value) -> str:
    """The conversation to record "signposted" on, when the address names one; anything else is ignored."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return ""


@role_required(*STAFF)
@require_POST
def signpost(request, contact_id, agency_id):
    contact = contacts_writable_by(request.user).filter(pk=contact_id).first()
    agency = Agency.objects.filter(pk=agency_id, active=True).first()
    if contact is None or agency is None:
        raise Http404
    contact_signpost(actor=request.user, contact=contact, agency=agency)
    return render(request, "referrals/signposted.html", {"agency": agency}, status=200)
