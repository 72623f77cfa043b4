"""Test-only models: records protected by the vault, and an unencrypted twin for the benchmark."""

import uuid

from django.db import models

from helpline.vault.fields import BlindIndexField, EncryptedTextField
from helpline.vault.models import ProtectedRecord


class Note(ProtectedRecord):
    """A record with its own data key, like a contact: two encrypted fields and a blind index."""

    title = models.CharField(max_length=80, blank=True)
    body = EncryptedTextField()
    summary = EncryptedTextField()
    sender_index = BlindIndexField()

    def __str__(self):
        return self.title


class NoteComment(models.Model):
    """Sealed under its parent's key, like a case note under its case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="comments")
    body = EncryptedTextField(data_key="note.data_key", null=False)

    def __str__(self):
        return f"comment {self.pk}"


class PlainComment(models.Model):
    """NoteComment without encryption: the benchmark's baseline for a note save and read."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="plain_comments")
    body = models.TextField(blank=True)

    def __str__(self):
        return f"plain comment {self.pk}"
