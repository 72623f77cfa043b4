"""Every transport copes with a document cut down to any set of fields: a preview, or a permanent reason.

Agencies receive only their fields, so any key may be missing. For every subset
of the full document's fields removed, ``render`` either returns what would be
sent (for NCMEC: valid against the XSD) or raises ``DeliveryError(permanent=True)``
with a reason; nothing else escapes, and the e-mail notice never holds content.
"""

import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpline.outbox import DeliveryError
from integrations.ncmec.report import SCHEMA_PATH
from referrals.transports import DeliveryRequest, transport_get
from tests.integrations.referral_documents import PROTECTED, document_without, full_document


def _paths(node, prefix=""):
    for key, value in node.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict):
            yield from _paths(value, path + ".")


PATHS = sorted(set(_paths(full_document())) - {"schema"})
CONFIG = {
    "ncmec": {"base_url": "https://report.cybertip.example", "username": "u"},
    "iwf": {
        "base_url": "https://iwf.example",
        "username": "u",
        "media_type_id": "1",
        "report_channel_id": "51",
        "reported_category_id": "2",
    },
    "cpims": {"base_url": "https://cpims.example", "org_unit": "1"},
    "email": {"recipients": "duty@police.example"},
}
SCHEMA = xmlschema.XMLSchema(SCHEMA_PATH)


def _with_report_remove(document):
    document["report_remove"] = {"age_range": "13-17", "reference": "RR-1"}
    return document


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(removed=st.sets(st.sampled_from(PATHS)), report_remove=st.booleans())
def test_any_cut_renders_or_fails_permanently_with_a_reason(removed, report_remove):
    document = document_without(*removed)
    if report_remove:
        _with_report_remove(document)
    for name, config in CONFIG.items():
        request = DeliveryRequest(document=document, idempotency_key="k", config=config, secrets={})
        try:
            rendered = transport_get(name).render(request)
        except DeliveryError as refused:
            assert refused.permanent and refused.reason, name
            continue
        assert rendered.body, name
        if name == "ncmec":
            SCHEMA.validate(rendered.body)
        if name == "email":
            text = rendered.body.decode()
            assert not any(value in text for value in PROTECTED)
