"""Retention: each line's policy, and the run that crypto-shreds what is past its deadline.

What goes, per line (``cases.models.RetentionPolicy``):

- a closed case, ``closed_case_days`` after it closed: the case's data key (notes,
  people, narrative, approval reasons) and the keys of the contacts linked to it;
- a contact never linked to a case, ``transcript_days`` after it ended: its data key
  (messages, notes, drafts, the wrap-up summary), and its sender's blind index.

What stays: every plain, non-identifying field statistics count (channel, dates,
categories, risk, age band), the rows themselves and the audit trail.

``retention_run`` is safe to run again and at the same time as another run: each
batch is one transaction that claims its rows with ``SELECT … FOR UPDATE SKIP
LOCKED`` (rows another run holds are left to it) and only picks keys that are not
shredded yet, so nothing is shredded or counted twice. A run interrupted halfway
keeps what it finished. Each run is audited once with its counts; each destroyed
key by ``helpline.services.keys.data_key_destroy``.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import actions
from cases.errors import CaseError
from cases.models import Case, CaseContact, CaseStatus, ContactWrapup, RetentionPolicy
from helpline.access import is_administrator
from helpline.audit.services import audit_record
from helpline.models import Contact, ContactStatus, Helpline
from helpline.services.keys import data_key_destroy
from helpline.vault.models import DataKey

REASON = "retention"
BATCH_SIZE = 200


class RetentionPolicyError(CaseError):
    """A policy that cannot be; the message is safe to show."""


def retention_policy_for(line: Helpline) -> RetentionPolicy:
    """The line's policy, or the defaults (unsaved) for a line nobody configured."""
    try:
        return line.retention_policy
    except RetentionPolicy.DoesNotExist:
        return RetentionPolicy(line=line)


@transaction.atomic
def retention_policy_set(
    *, actor, line: Helpline, closed_case_days: int, transcript_days: int, reason: str = ""
) -> RetentionPolicy:
    """Set how long ``line`` keeps closed cases and unlinked transcripts (administrators only), audited."""
    if not is_administrator(actor):
        raise PermissionError("Only administrators change retention")
    if closed_case_days < 0 or transcript_days < 0:
        raise RetentionPolicyError(_("Retention periods cannot be negative."))
    if transcript_days > closed_case_days:
        raise RetentionPolicyError(_("Unlinked transcripts cannot be kept longer than closed cases."))
    policy, _created = RetentionPolicy.objects.select_for_update().get_or_create(line=line)
    before = {"closed_case_days": policy.closed_case_days, "transcript_days": policy.transcript_days}
    policy.closed_case_days = closed_case_days
    policy.transcript_days = transcript_days
    policy.updated_by = getattr(actor, "staff", None)
    policy.save()
    audit_record(
        action=actions.RETENTION_POLICY_CHANGED,
        actor=actor,
        record=policy,
        reason=reason,
        details={
            "line": line.slug,
            "before": before,
            "after": {"closed_case_days": closed_case_days, "transcript_days": transcript_days},
        },
    )
    return policy


@dataclass
class RetentionResult:
    cases: int = 0
    case_contacts: int = 0  # data keys of contacts destroyed with their closed case
    transcripts: int = 0  # contacts not linked to a case (platform ones and those logged by hand)
    batches: int = 0

    def as_details(self) -> dict:
        return asdict(self)


Progress = Callable[[str, int], None]


# --- what is due -----------------------------------------------------------------------


def contacts_linked_to_a_case():
    """Contacts some case holds: their transcript lives as long as that case."""
    return Exists(ContactWrapup.objects.filter(contact=OuterRef("pk"), case__isnull=False)) | Exists(
        CaseContact.objects.filter(wrapup__contact=OuterRef("pk"))
    )


def cases_due(*, line: Helpline, now, policy: RetentionPolicy | None = None):
    """Closed cases of ``line`` past their retention deadline and not yet destroyed."""
    policy = policy or retention_policy_for(line)
    return Case.objects.filter(
        line=line,
        status=CaseStatus.CLOSED,
        closed_at__lte=now - policy.closed_case_period,
        shredded_at__isnull=True,
    )


def transcripts_due(*, line: Helpline, now, policy: RetentionPolicy | None = None):
    """Closed contacts of ``line`` no case holds, ended before the transcript deadline, not yet destroyed."""
    policy = policy or retention_policy_for(line)
    return (
        Contact.objects.filter(line=line, status=ContactStatus.CLOSED, data_key__shredded_at__isnull=True)
        .alias(finished_at=Coalesce("ended_at", "arrived_at"))
        .filter(finished_at__lte=now - policy.transcript_period)
        .exclude(contacts_linked_to_a_case())
    )


def logged_contacts_due(*, line: Helpline, now, policy: RetentionPolicy | None = None):
    """Contacts logged by hand (a wrap-up without a platform contact: a call, a letter) no case holds, past due."""
    policy = policy or retention_policy_for(line)
    return ContactWrapup.objects.filter(
        line=line,
        contact__isnull=True,
        case__isnull=True,
        occurred_at__lte=now - policy.transcript_period,
        data_key__shredded_at__isnull=True,
    ).exclude(Exists(CaseContact.objects.filter(wrapup=OuterRef("pk"))))


# --- shredding ---------------------------------------------------------------------------


def _claim(queryset, *, batch_size: int, of: tuple[str, ...]) -> list:
    """Lock up to ``batch_size`` rows for this transaction; rows another run holds are skipped."""
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=of)
    else:  # SQLite: one writer at a time anyway
        queryset = queryset.select_for_update()
    return list(queryset[:batch_size])


def _destroy(data_keys) -> int:
    destroyed = 0
    for data_key in data_keys:
        if data_key.shredded_at is None:
            data_key_destroy(data_key=data_key, reason=REASON)
            destroyed += 1
    return destroyed


def _shred_transcripts(contacts: list[Contact], result: RetentionResult) -> None:
    result.transcripts += _destroy(contact.data_key for contact in contacts)
    # The blind index would still tell who wrote, to anyone holding the index key.
    Contact.objects.filter(pk__in=[contact.pk for contact in contacts]).update(sender_index=None)


def _shred_logged(wrapups: list[ContactWrapup], result: RetentionResult) -> None:
    result.transcripts += _destroy(wrapup.data_key for wrapup in wrapups)
    ContactWrapup.objects.filter(pk__in=[wrapup.pk for wrapup in wrapups]).update(caller_index=None)


def _shred_cases(cases: list[Case], result: RetentionResult, *, now) -> None:
    ids = [case.pk for case in cases]
    _destroy(case.data_key for case in cases)
    Case.objects.filter(pk__in=ids).update(shredded_at=now)
    result.cases += len(cases)
    # Their contacts go too, unless a case that is still kept holds them as well.
    linked = ContactWrapup.objects.filter(
        Q(case__in=ids) | Exists(CaseContact.objects.filter(wrapup=OuterRef("pk"), case__in=ids))
    )
    still_held = Q(case__isnull=False, case__shredded_at__isnull=True) | Exists(
        CaseContact.objects.filter(wrapup=OuterRef("pk"), case__shredded_at__isnull=True)
    )
    wrapups = list(linked.exclude(still_held).values_list("pk", "data_key_id", "contact_id", "contact__data_key_id"))
    key_ids = {key for _, own, _, contact_key in wrapups for key in (own, contact_key) if key}
    result.case_contacts += _destroy(DataKey.objects.filter(pk__in=key_ids, shredded_at__isnull=True).order_by("pk"))
    Contact.objects.filter(pk__in=[contact for _, _, contact, _ in wrapups if contact]).update(sender_index=None)
    ContactWrapup.objects.filter(pk__in=[pk for pk, _, _, _ in wrapups]).update(caller_index=None)


def _in_batches(queryset, *, of, batch_size: int, shred, kind: str, result: RetentionResult, progress) -> None:
    """Claim, shred and commit ``batch_size`` rows at a time until nothing is left that nobody else holds."""
    done = 0
    while True:
        with transaction.atomic():
            batch = _claim(queryset, batch_size=batch_size, of=of)
            if batch:
                shred(batch, result)
        if not batch:
            return
        done += len(batch)
        result.batches += 1
        if progress:
            progress(kind, done)


def retention_run(*, now=None, batch_size: int = BATCH_SIZE, progress: Progress | None = None) -> RetentionResult:
    """Crypto-shred everything past its retention deadline on every line; audited once with the counts."""
    now = now or timezone.now()
    result = RetentionResult()
    for line in Helpline.objects.select_related("retention_policy").order_by("pk"):
        policy = retention_policy_for(line)
        # Cases first: a contact of a case that goes now goes with it, not as a loose transcript.
        steps = [
            ("cases", cases_due, ("self", "data_key"), lambda batch, res: _shred_cases(batch, res, now=now)),
            ("transcripts", transcripts_due, ("self", "data_key"), _shred_transcripts),
            ("contacts logged by hand", logged_contacts_due, ("self", "data_key"), _shred_logged),
        ]
        for kind, due, of, shred in steps:
            _in_batches(
                due(line=line, now=now, policy=policy).select_related("data_key").order_by("pk"),
                of=of,
                batch_size=batch_size,
                shred=shred,
                kind=f"{line.slug} {kind}",
                result=result,
                progress=progress,
            )
    audit_record(action=actions.RETENTION_RUN, details=result.as_details())
    return result
