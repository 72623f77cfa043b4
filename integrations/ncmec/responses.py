"""NCMEC's answers: every call answers a ``reportResponse`` (or ``reportDoneResponse``) with a numeric code.

``answer_read`` parses an answer (against the same XSD, entities refused) into
an ``Answer``; ``error_for`` turns a failing code into a ``DeliveryError`` in
plain words, permanent unless trying again can help. NCMEC's own
``responseDescription`` is never put in a reason (it may quote the report).
"""

from dataclasses import dataclass

import xmlschema
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpline.outbox import DeliveryError
from integrations.ncmec.report import schema

SUCCESS = 0
AUTHENTICATION_REQUIRED = 2000
NOT_AUTHORISED = 3100
VALIDATION_FAILED = 4100
MALFORMED_XML = 4110
NO_SUCH_REPORT = 5001
ALREADY_RETRACTED = 5101
ALREADY_FINISHED = 5102

# Trying again sends the same thing with the same credentials: it fails the same way.
PERMANENT = {
    AUTHENTICATION_REQUIRED: gettext_lazy(
        "NCMEC refused the agency's CyberTipline credentials. Tell an administrator to check them."
    ),
    NOT_AUTHORISED: gettext_lazy(
        "NCMEC accepted the credentials but does not allow them to make reports. Tell an administrator."
    ),
    VALIDATION_FAILED: gettext_lazy("NCMEC found the report invalid. Tell an administrator."),
    MALFORMED_XML: gettext_lazy("NCMEC could not read the report's XML. Tell an administrator."),
    NO_SUCH_REPORT: gettext_lazy("NCMEC does not know the report this delivery started."),
    ALREADY_RETRACTED: gettext_lazy("NCMEC says the report was already retracted."),
}


@dataclass(frozen=True)
class Answer:
    code: int
    report_id: str = ""


def answer_read(body: bytes) -> Answer | None:
    """The code and report id of an answer, or None when it is not an answer NCMEC's schema describes."""
    try:
        decoded = schema().to_dict(body, defuse="always")
    except (xmlschema.XMLSchemaException, ValueError, SyntaxError):
        return None
    if not isinstance(decoded, dict) or "responseCode" not in decoded:
        return None
    report_id = decoded.get("reportId")
    return Answer(code=int(decoded["responseCode"]), report_id="" if report_id is None else str(report_id))


def error_for(code: int) -> DeliveryError:
    if code in PERMANENT:
        return DeliveryError(str(PERMANENT[code]), permanent=True, code=str(code))
    if 1000 <= code < 2000:
        # NCMEC's server-side errors: the same report may well go through in a moment.
        return DeliveryError(
            _("NCMEC had an internal error (code %(code)d). Trying again shortly.") % {"code": code},
            permanent=False,
            code=str(code),
        )
    return DeliveryError(
        _("NCMEC refused the report (code %(code)d). Tell an administrator.") % {"code": code},
        permanent=True,
        code=str(code),
    )
