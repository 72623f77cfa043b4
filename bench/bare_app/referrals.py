"""The referral API's rows by hand-written SQL: bench/api.py's raw-SQL baseline and its bare HTTP views.

The same queries serve both, so the in-process raw figure and the bare server read exactly the same
rows: a list page (the answer's columns only, by the ``(agency, updated_at, id)`` index from a
cursor) and one referral (its row with the sealed document and the case's wrapped data key, its
events, its questions).
"""

import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from helpline.vault import crypto
from helpline.vault.keys import keys_get

PAGE = 50
AT_AGENCY = ["sent", "acknowledged", "accepted", "declined", "closed", "withdrawn"]
# The list row's names (as the API answers) and the columns they come from.
SUMMARY = {
    "id": "r.id",
    "status": "r.status",
    "urgency": "r.urgency",
    "case_reference": "c.reference",
    "agency_reference": "r.external_reference",
    "outcome": "o.code",
    "sent_at": "r.sent_at",
    "acknowledged_at": "r.acknowledged_at",
    "closed_at": "r.closed_at",
    "updated_at": "r.updated_at",
    "acknowledge_by": "r.acknowledge_by",
    "complete_by": "r.complete_by",
}
COLUMNS = ", ".join(SUMMARY.values())
FROM = (
    "FROM referrals_referral r JOIN cases_case c ON c.id = r.case_id "
    "LEFT JOIN referrals_outcomekind o ON o.id = r.outcome_kind_id"
)
EVENT_COLUMNS = ("kind", "created_at", "via", "note", "detail")


def page_rows(cursor, agency, after=None, size: int = PAGE) -> list:
    """One page of ``agency``'s referrals in the API's order, after the (updated_at, id) ``after``; one row more."""
    where = "AND (r.updated_at, r.id) > (%s, %s)" if after else ""
    cursor.execute(
        f"SELECT {COLUMNS} {FROM} "  # noqa: S608
        "WHERE r.agency_id = %s AND r.status = ANY(%s) AND r.sent_at IS NOT NULL "
        f"{where} ORDER BY r.updated_at, r.id LIMIT %s",
        [agency, AT_AGENCY, *(after or ()), size + 1],
    )
    return cursor.fetchall()


def fetch_rows(cursor, referral_id) -> tuple:
    """The referral's row (its summary columns, the sealed document, the case's data key), events, questions."""
    cursor.execute(
        f"SELECT {COLUMNS}, r.document, k.id, k.kek_id, k.wrapped {FROM} "  # noqa: S608
        "JOIN vault_datakey k ON k.id = c.data_key_id WHERE r.id = %s",
        [referral_id],
    )
    row = cursor.fetchone()
    cursor.execute(
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM referrals_referralevent WHERE referral_id = %s "  # noqa: S608
        "ORDER BY created_at",
        [referral_id],
    )
    events = cursor.fetchall()
    cursor.execute("SELECT * FROM referrals_referralquestion WHERE referral_id = %s ORDER BY asked_at", [referral_id])
    return row, events, cursor.fetchall(), [column.name for column in cursor.description]


def document_open(row) -> dict | None:
    """The referral's document in clear, by the vault's primitives: unwrap the case's key, decrypt, parse."""
    envelope, datakey_id, kek_id, wrapped = row[len(SUMMARY) :]
    if envelope is None or not wrapped:
        return None
    raw_key = crypto.datakey_unwrap(kek=keys_get().kek(kek_id), wrapped=bytes(wrapped), datakey_id=datakey_id)
    referral_id = str(row[0])
    text = crypto.field_decrypt(
        cipher=AESGCM(raw_key),
        envelope=bytes(envelope),
        associated_data=crypto.field_associated_data(
            model_label="referrals.referral", field_name="document", pk=referral_id
        ),
        where=("referrals.referral", "document", referral_id),
    )
    return json.loads(text)
