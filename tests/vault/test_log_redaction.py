"""Text that passed through the vault never reaches the log output, even when code logs it by mistake."""

import io
import logging

import pytest

from helpline.vault.redaction import RedactProtectedFilter
from helpline.vault.services import datakey_create, seal, unseal
from tests.testapp.models import Note
from tests.vault.conftest import reload

pytestmark = pytest.mark.django_db

SECRET_BODY = "my stepfather comes to my room at night"


@pytest.fixture
def console_output():
    """What the console handler configured by settings.LOGGING writes."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(log_filter, RedactProtectedFilter) for log_filter in handler.filters)
    ]
    assert handlers, "settings.LOGGING should attach RedactProtectedFilter to the root console handler"
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in handlers]
    yield stream
    for handler, old in zip(handlers, previous, strict=True):
        handler.setStream(old)


def test_an_unsealed_body_logged_by_mistake_is_redacted(console_output, caplog):
    note = Note(data_key=datakey_create())
    seal(note, "body", SECRET_BODY)
    note.save()
    body = unseal(reload(note), "body")

    logging.getLogger("helpline.somewhere").warning("could not route message %r", body)
    try:
        raise RuntimeError(f"failed on {body}")
    except RuntimeError:
        logging.getLogger("helpline.somewhere").exception("task failed")

    written = console_output.getvalue()
    assert "could not route message" in written and "task failed" in written
    assert SECRET_BODY not in written
    assert written.count("[redacted]") >= 2
    assert all(SECRET_BODY not in record.getMessage() for record in caplog.records)


def test_a_sealed_value_logged_by_mistake_shows_no_ciphertext(console_output):
    note = Note(data_key=datakey_create())
    seal(note, "body", SECRET_BODY)
    logging.getLogger("helpline.somewhere").warning("body is %s / %r", note.body, note.body)
    written = console_output.getvalue()
    assert "[encrypted] / <Sealed" in written
    assert note.body.envelope.hex() not in written
