"""No protected value reaches the console, whichever logger writes it."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpline.vault.redaction import remember_protected

ROOT = Path(__file__).resolve().parents[2]
BODY = "my uncle sends me pictures at night"


@pytest.mark.parametrize("logger_name", ["uvicorn.error", "django", "django.request", "daphne", "channels", "helpline"])
def test_served_logs_are_redacted_whichever_logger_writes(tmp_path, logger_name):
    """uvicorn configures its loggers before importing the app; Django's configuration must win."""
    script = f"""
import logging, uvicorn.config
uvicorn.config.Config(app="config.asgi:application").configure_logging()
import django; django.setup()
from helpline.vault.redaction import remember_protected
remember_protected({BODY!r})
try:
    raise RuntimeError("while handling " + {BODY!r} + " from +254712345678")
except RuntimeError:
    logging.getLogger({logger_name!r}).exception("Exception in ASGI application")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "HELPLINE_VAR_DIR": str(tmp_path)})
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert "Exception in ASGI application" in output
    assert BODY not in output and "712345678" not in output


def test_a_body_seen_in_this_context_is_masked_in_tracebacks(caplog):
    remember_protected(BODY)
    logger = logging.getLogger("helpline.test")
    from helpline.vault.redaction import RedactProtectedFilter

    record = logger.makeRecord("helpline.test", logging.ERROR, __file__, 1, "failed on %s", (BODY,), None)
    RedactProtectedFilter().filter(record)
    assert BODY not in record.getMessage()


def test_identifiers_stay_whole_and_phone_numbers_beside_them_are_masked():
    from helpline.vault.redaction import redact

    delivery = "0b1c2d3e-1234-5678-9012-345678901234"
    text = redact(f"Delivery {delivery} failed for +254 712 345 678; retry {delivery}.")
    assert text == f"Delivery {delivery} failed for [redacted]; retry {delivery}."
    assert redact(f"{delivery}+254712345678") == f"{delivery}[redacted]"
