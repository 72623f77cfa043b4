"""Wrap-up of contacts: drafts saved as the counsellor types, a finish that validates, contacts logged by hand.

The values come in a ``WrapupValues`` (what the pane's form holds); every service
checks them against the choices, the line's regions and the taxonomy version.
A draft may be incomplete. Finishing needs a call type; a data contact also
needs the caller, the risk level and at least one category, while a non-data
contact (silent, prank, …) needs nothing else: two clicks.
"""

from dataclasses import dataclass, field, fields

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import actions
from cases.errors import CaseError
from cases.models import (
    ActionTaken,
    AgeBand,
    CallerType,
    CallType,
    ChildWants,
    ContactChannel,
    ContactWrapup,
    Gender,
    RiskLevel,
    WrapupStatus,
)
from cases.models.choices import OFFLINE_CHANNELS, WEBCHAT_AGE_BANDS
from cases.selectors.access import wrapups_writable_by
from cases.selectors.taxonomy import category_codes, line_regions, taxonomy_for_line
from cases.services.cases import case_classification_merge
from helpline.audit.services import audit_record
from helpline.models import Contact, ContactStatus, Role, Staff
from helpline.services.queue import contact_close
from helpline.vault.blind_index import IdentifierKind, blind_index
from helpline.vault.services import datakey_create, seal

MAX_SUMMARY_LENGTH = 10_000
MAX_AGE = 120


@dataclass
class WrapupValues:
    call_type: str = ""
    caller_type: str = ""
    age_band: str = ""
    age: int | None = None
    gender: str = ""
    region: str = ""
    categories: list[str] = field(default_factory=list)
    risk_level: str = ""
    child_wants: list[str] = field(default_factory=list)
    actions_taken: list[str] = field(default_factory=list)
    summary: str = ""

    @classmethod
    def of(cls, wrapup: ContactWrapup, *, summary: str = "") -> "WrapupValues":
        values = {f.name: getattr(wrapup, f.name) for f in fields(cls) if f.name != "summary"}
        return cls(**values, summary=summary)


def age_band_for(age: int) -> str:
    for upper, band in ((5, "0-5"), (9, "6-9"), (12, "10-12"), (15, "13-15"), (17, "16-17")):
        if age <= upper:
            return band
    return AgeBand.ADULT


def _one_of(value, choices, what: str) -> str:
    value = (value or "").strip()
    if value and value not in choices:
        raise CaseError(_("%(what)s is not one of the choices.") % {"what": what})
    return value


def _some_of(values, choices, what: str) -> list[str]:
    chosen = []
    for value in values or []:
        if value not in choices:
            raise CaseError(_("%(what)s is not one of the choices.") % {"what": what})
        if value not in chosen:
            chosen.append(value)
    return chosen


def wrapup_values_clean(values: WrapupValues, *, line, version, final: bool) -> WrapupValues:
    """The values checked and normalised; raises CaseError naming the first problem (never the content)."""
    clean = WrapupValues(
        call_type=_one_of(values.call_type, CallType.values, _("Call type")),
        caller_type=_one_of(values.caller_type, CallerType.values, _("Caller")),
        age_band=_one_of(values.age_band, AgeBand.values, _("Age band")),
        gender=_one_of(values.gender, Gender.values, _("Gender")),
        risk_level=_one_of(values.risk_level, RiskLevel.values, _("Risk level")),
        child_wants=_some_of(values.child_wants, ChildWants.values, _("What the child wants")),
        actions_taken=_some_of(values.actions_taken, ActionTaken.values, _("Actions taken")),
        categories=_some_of(values.categories, category_codes(version), _("Category")),
        summary=values.summary or "",
    )
    if values.age is not None:
        if not isinstance(values.age, int) or not 0 <= values.age <= MAX_AGE:
            raise CaseError(_("Age must be a whole number of years."))
        clean.age = values.age
        band = age_band_for(values.age)
        if clean.age_band and clean.age_band not in (band, AgeBand.UNKNOWN):
            raise CaseError(_("The age does not fall in the age band."))
        clean.age_band = band
    region = (values.region or "").strip()
    if region and region not in {item.get("code") for item in line_regions(line)}:
        raise CaseError(_("Region is not one of this line's regions."))
    clean.region = region
    if len(clean.summary) > MAX_SUMMARY_LENGTH:
        raise CaseError(_("The summary is too long."))
    if final:
        if not clean.call_type:
            raise CaseError(_("Choose the call type."))
        if clean.call_type == CallType.DATA:
            if not clean.caller_type:
                raise CaseError(_("Choose who contacted the line."))
            if not clean.risk_level:
                raise CaseError(_("Choose the risk level."))
            if not clean.categories:
                raise CaseError(_("Choose at least one category."))
    return clean


def _apply(wrapup: ContactWrapup, values: WrapupValues) -> None:
    for name in (
        "call_type",
        "caller_type",
        "age_band",
        "age",
        "gender",
        "region",
        "categories",
        "risk_level",
        "child_wants",
        "actions_taken",
    ):
        setattr(wrapup, name, getattr(values, name))
    if values.summary:
        seal(wrapup, "summary", values.summary)
    else:
        wrapup.summary = None


def _writable(actor: Staff, wrapup: ContactWrapup) -> ContactWrapup:
    locked = (
        wrapups_writable_by(actor.user)
        .select_for_update(of=("self",))
        .select_related("data_key", "line", "taxonomy_version")
        .filter(pk=wrapup.pk)
        .first()
    )
    if locked is None:
        raise PermissionDenied
    if locked.status == WrapupStatus.FINAL:
        raise CaseError(_("This wrap-up is finished and can no longer change."))
    return locked


@transaction.atomic
def wrapup_open(*, actor: Staff, contact: Contact) -> ContactWrapup:
    """The draft wrap-up of a contact the actor holds, created (prefilled from the contact) if missing."""
    contact = Contact.objects.select_for_update().select_related("line", "data_key").get(pk=contact.pk)
    if contact.counsellor_id != actor.pk:
        raise PermissionDenied
    existing = ContactWrapup.objects.filter(contact=contact).first()
    if existing is not None:
        return existing
    wrapup = ContactWrapup.objects.create(
        contact=contact,
        line=contact.line,
        channel=contact.channel,
        occurred_at=contact.accepted_at or contact.arrived_at,
        counsellor=actor,
        recorded_by=actor,
        data_key=contact.data_key,  # the contact's own key: the summary goes when the transcript goes
        taxonomy_version=taxonomy_for_line(contact.line),
        age_band=WEBCHAT_AGE_BANDS.get(contact.age_band, ""),
    )
    audit_record(action=actions.WRAPUP_SAVED, actor=actor.user, record=wrapup, details={"created": True})
    return wrapup


@transaction.atomic
def wrapup_draft_save(*, actor: Staff, wrapup: ContactWrapup, values: WrapupValues) -> ContactWrapup:
    wrapup = _writable(actor, wrapup)
    clean = wrapup_values_clean(values, line=wrapup.line, version=wrapup.taxonomy_version, final=False)
    _apply(wrapup, clean)
    wrapup.save()
    audit_record(action=actions.WRAPUP_SAVED, actor=actor.user, record=wrapup)
    return wrapup


@transaction.atomic
def wrapup_finalise(*, actor: Staff, wrapup: ContactWrapup, values: WrapupValues) -> ContactWrapup:
    """Finish the wrap-up; a linked case takes its classification, and a contact in wrap-up is closed."""
    wrapup = _writable(actor, wrapup)
    clean = wrapup_values_clean(values, line=wrapup.line, version=wrapup.taxonomy_version, final=True)
    _apply(wrapup, clean)
    wrapup.status = WrapupStatus.FINAL
    wrapup.finalised_at = timezone.now()
    wrapup.save()
    audit_record(
        action=actions.WRAPUP_FINALISED,
        actor=actor.user,
        record=wrapup,
        details={"call_type": wrapup.call_type, "case_linked": wrapup.case_id is not None},
    )
    if wrapup.case_id is not None:
        case_classification_merge(actor=actor, case=wrapup.case, wrapup=wrapup)
    if wrapup.contact_id is not None:
        contact = Contact.objects.get(pk=wrapup.contact_id)
        if contact.status == ContactStatus.WRAPUP and contact.counsellor_id == actor.pk:
            contact_close(actor=actor, contact=contact)
    return wrapup


def _caller_index(phone: str) -> str | None:
    phone = (phone or "").strip()
    if not phone:
        return None
    try:
        return blind_index(kind=IdentifierKind.PHONE, value=phone)
    except ValueError:
        raise CaseError(_("The caller's number is not a phone number in international form (+…).")) from None


@transaction.atomic
def contact_log(
    *,
    actor: Staff,
    line,
    channel: str,
    values: WrapupValues,
    occurred_at=None,
    counsellor: Staff | None = None,
    caller_phone: str = "",
    final: bool = True,
) -> ContactWrapup:
    """Record a contact from outside the platform (a phone call, a walk-in, a letter, an email).

    ``counsellor`` is whose contact it was when the actor logs it on a colleague's behalf;
    both must work on ``line``. The caller's number, if given, is kept only as a blind
    index, so a later contact from the same number is offered the same cases.
    """
    if actor.role not in (Role.COUNSELLOR, Role.SUPERVISOR) or not actor.lines.filter(pk=line.pk).exists():
        raise PermissionDenied
    counsellor = counsellor or actor
    if counsellor.role not in (Role.COUNSELLOR, Role.SUPERVISOR) or not counsellor.lines.filter(pk=line.pk).exists():
        raise CaseError(_("That colleague does not work on this line."))
    if channel not in OFFLINE_CHANNELS:
        raise CaseError(_("Choose how the contact came: phone call, walk-in, letter or email."))
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now:
        raise CaseError(_("A contact cannot be in the future."))
    version = taxonomy_for_line(line)
    clean = wrapup_values_clean(values, line=line, version=version, final=final)
    wrapup = ContactWrapup(
        line=line,
        channel=ContactChannel(channel),
        occurred_at=occurred_at,
        counsellor=counsellor,
        recorded_by=actor,
        caller_index=_caller_index(caller_phone),
        data_key=datakey_create(),
        taxonomy_version=version,
        status=WrapupStatus.FINAL if final else WrapupStatus.DRAFT,
        finalised_at=now if final else None,
    )
    _apply(wrapup, clean)
    wrapup.save(force_insert=True)
    audit_record(
        action=actions.CONTACT_LOGGED,
        actor=actor.user,
        subject=counsellor.user if counsellor.pk != actor.pk else None,
        record=wrapup,
        details={"channel": channel, "final": final, "on_behalf": counsellor.pk != actor.pk},
    )
    return wrapup
