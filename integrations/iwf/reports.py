"""What the IWF receives, built from the canonical referral document: pure functions, no network.

``requests_for(document, config)`` lists every request a delivery makes, in
order, as ``(kind, key, path, body)``: one URL report per reported address, then
the Report Remove hand-off when the document carries one. ``key`` names the
request in what a delivery keeps between attempts. A document that gives the IWF
nothing to act on, or a value beyond the IWF's limits, raises
``DeliveryError(permanent=True)`` naming the problem, never the value.

A hand-off that cannot be made (a child under 13, an age range that cannot be
told) does not stop the URL reports of the same referral: they go, and
``hand_off_skipped`` says why the hand-off did not, for the referral's timeline.
Without URL reports the same problem fails the delivery.
"""

from django.utils.translation import gettext as _

from helpline.outbox import DeliveryError

URL_PATH = "/report"
REPORT_REMOVE_PATH = "/report-remove"
MAX_URL = 1000
MAX_DESCRIPTION = 500
MAX_NAME = 50
MAX_EMAIL = 100
# The IWF's Report Remove age ranges a helpline may hand over (children under 13 take another route).
REPORT_REMOVE_RANGES = ("13-15", "16-17")


def requests_for(document: dict, config: dict) -> list[tuple[str, str, str, dict]]:
    urls = [str(url) for url in (document.get("incident") or {}).get("urls") or [] if url]
    planned = [("url", f"url-{index}", URL_PATH, url_report(document, config, url)) for index, url in enumerate(urls)]
    if document.get("report_remove"):
        problem = hand_off_skipped(document)
        if not problem:
            planned.append(("report_remove", "report_remove", REPORT_REMOVE_PATH, report_remove(document)))
        elif not planned:
            raise DeliveryError(f"{problem} {_('Nothing was sent.')}", permanent=True, code="report_remove")
    if not planned:
        raise DeliveryError(
            _(
                "The referral gives the IWF nothing to act on: no reported address and no Report Remove "
                "hand-off. Share the reported addresses with this agency; nothing was sent."
            ),
            permanent=True,
            code="nothing_to_report",
        )
    return planned


def hand_off_skipped(document: dict) -> str:
    """Why the document's Report Remove hand-off cannot be made, or "" when it can (or there is none)."""
    hand_off = document.get("report_remove")
    if not hand_off:
        return ""
    if not (hand_off.get("reference") or document.get("referral_id")):
        return _("The Report Remove hand-off has no reference.")
    if _age_range(document, str(hand_off.get("age_range") or "")) == "under-13":
        return _("Report Remove through the helpline is for children aged 13 to 17.")
    if _age_range(document, str(hand_off.get("age_range") or "")) not in REPORT_REMOVE_RANGES:
        return _(
            "Report Remove needs to know whether the child is 13 to 15 or 16 to 17; share the child's age band "
            "with this agency."
        )
    return ""


def url_report(document: dict, config: dict, url: str) -> dict:
    if len(url) > MAX_URL:
        raise DeliveryError(
            _("A reported address is longer than the %(max)d characters the IWF accepts; nothing was sent.")
            % {"max": MAX_URL},
            permanent=True,
            code="url_too_long",
        )
    named = config.get("reporter") == "named"
    report = {
        "Reporting_Type": "R",
        "Live_Report": "L" if config.get("live") in (True, "true", "yes", "1") else "T",
        "Media_Type_ID": _number(config.get("media_type_id")),
        "Report_Channel_ID": _number(config.get("report_channel_id")),
        "Reported_Category_ID": _number(config.get("reported_category_id")),
        "Reported_URL": url,
        "Reporter_Anonymous": "N" if named else "Y",
        "Reporter_Country": str(
            config.get("reporter_country") or (document.get("helpline") or {}).get("country") or ""
        ),
        "Reporter_Description": description(document),
    }
    if named:
        report["Reporter_First_Name"] = str(config.get("reporter_first_name", ""))
        report["Reporter_Last_Name"] = str(config.get("reporter_last_name", ""))
        report["Reporter_Email_ID"] = str(config.get("reporter_email", ""))
    if not report["Reporter_Country"]:
        del report["Reporter_Country"]
    return report


def description(document: dict) -> str:
    """At most 500 characters: who refers, what kind of harm, where, and the summary if shared (cut to fit)."""
    parts = []
    helpline = document.get("helpline") or {}
    if helpline.get("name"):
        parts.append(f"Referred by the child helpline {helpline['name']}.")
    labels = [str(c.get("label") or c.get("code")) for c in document.get("categories") or [] if c]
    if labels:
        parts.append("Categories: " + ", ".join(labels) + ".")
    incident = document.get("incident") or {}
    if incident.get("platform"):
        parts.append(f"Platform: {incident['platform']}.")
    if document.get("case_reference"):
        parts.append(f"Helpline reference: {document['case_reference']}.")
    text = " ".join(parts)
    summary = str(incident.get("summary") or "")
    if summary:
        room = MAX_DESCRIPTION - len(text) - 1
        if room > 1:
            text = f"{text} {summary if len(summary) <= room else summary[: room - 1] + '…'}".strip()
    return text[:MAX_DESCRIPTION]


def report_remove(document: dict) -> dict:
    """Only the IWF's age range and a reference that does not identify the child (check ``hand_off_skipped`` first)."""
    hand_off = document.get("report_remove") or {}
    return {
        "age_range": _age_range(document, str(hand_off.get("age_range") or "")),
        "reference": str(hand_off.get("reference") or document.get("referral_id")),
    }


def _age_range(document: dict, given: str) -> str:
    """13-15, 16-17, under-13, or "" when it cannot be told; a given 13-17 is narrowed with the child's age."""
    if given in REPORT_REMOVE_RANGES:
        return given
    child = document.get("child") or {}
    band = str(child.get("age_band") or "")
    age = child.get("age")
    if (isinstance(age, int) and age < 13) or band in {"0-5", "6-9", "10-12"} or given in {"under-13", "0-12"}:
        return "under-13"
    if given in ("", "13-17"):
        if band in REPORT_REMOVE_RANGES:
            return band
        if isinstance(age, int) and 13 <= age <= 15:
            return "13-15"
        if isinstance(age, int) and 16 <= age <= 17:
            return "16-17"
    return ""


def _number(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value
