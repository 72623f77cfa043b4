"""Case notes: append-only and sealed; a correction is a new note that points at the one it corrects."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import actions
from cases.errors import CaseError
from cases.models import CaseNote
from cases.services.cases import case_for_write
from helpline.audit.services import audit_record
from helpline.vault.services import seal

MAX_NOTE_LENGTH = 20_000


@transaction.atomic
def case_note_add(*, actor, case, body: str, corrects: CaseNote | None = None) -> CaseNote:
    case = case_for_write(actor, case)
    body = (body or "").strip()
    if not body:
        raise CaseError(_("Write the note first."))
    if len(body) > MAX_NOTE_LENGTH:
        raise CaseError(_("The note is too long."))
    if corrects is not None and not CaseNote.objects.filter(pk=corrects.pk, case=case).exists():
        raise CaseError(_("That note is not on this case."))
    note = CaseNote(case=case, author=actor, corrects=corrects)
    seal(note, "body", body)
    note.save(force_insert=True)
    case.last_note_at = timezone.now()
    case.save(update_fields=["last_note_at", "updated_at"])
    audit_record(
        action=actions.CASE_NOTE_CORRECTED if corrects else actions.CASE_NOTE_ADDED,
        actor=actor.user,
        record=case,
        details={"note": str(note.pk), **({"corrects": str(corrects.pk)} if corrects else {})},
    )
    return note
