"""Demo data of the cases app (registered with ``helpline.demo.demo_extension_register``).

The shipped taxonomy, published; a handful of Kenyan county codes as the demo line's
regions; and two cases the demo counsellor logged from phone calls, one about
sextortion with a child and an alleged perpetrator, one about cyberbullying. Idempotent:
a line that already has cases gets no more.
"""

from datetime import timedelta

from django.utils import timezone

from cases.models import Case
from cases.selectors.taxonomy import line_regions
from cases.services.cases import case_facts_update, case_open
from cases.services.notes import case_note_add
from cases.services.people import case_person_add
from cases.services.taxonomy import DEFAULT_DOCUMENT, line_regions_set, taxonomy_document_load, taxonomy_import
from cases.services.wrapups import WrapupValues, contact_log
from helpline.models import Role, Staff

DEMO_REGIONS = [
    {"code": "KE-047", "label": "Nairobi"},
    {"code": "KE-001", "label": "Mombasa"},
    {"code": "KE-042", "label": "Kisumu"},
    {"code": "KE-032", "label": "Nakuru"},
    {"code": "KE-022", "label": "Kiambu"},
]


def cases_demo(line) -> None:
    taxonomy_import(actor=None, document=taxonomy_document_load(DEFAULT_DOCUMENT), activate=True)
    if not line_regions(line):
        line_regions_set(actor=None, line=line, regions=DEMO_REGIONS)
    counsellor = Staff.objects.filter(role=Role.COUNSELLOR, lines=line).order_by("pk").first()
    if counsellor is None or Case.objects.filter(line=line).exists():
        return
    now = timezone.now()
    wrapup = contact_log(
        actor=counsellor,
        line=line,
        channel="phone",
        occurred_at=now - timedelta(days=2),
        values=WrapupValues(
            call_type="data",
            caller_type="child",
            age=14,
            gender="girl",
            region="KE-047",
            categories=["violence.ocsea.sextortion"],
            risk_level="high",
            child_wants=["talk", "remove_images"],
            actions_taken=["counselling", "referral_to_follow"],
            summary="Demo: a man she met in a game asks for money or he will share her photos.",
        ),
    )
    case = case_open(actor=counsellor, wrapup=wrapup)
    case_person_add(
        actor=counsellor, case=case, role="child", age=14, gender="girl", region="KE-047", name="Demo Child"
    )
    case_person_add(
        actor=counsellor,
        case=case,
        role="alleged_perpetrator",
        relationship="stranger_online",
        age_band="18+",
        online_identifiers="@demo_offender",
    )
    case_facts_update(
        actor=counsellor,
        case=case,
        platform="instagram",
        imagery_exists=True,
        summary="Demo: threats by direct message since last week; she has not paid.",
        urls=["https://example.invalid/profile/demo_offender"],
    )
    case_note_add(actor=counsellor, case=case, body="Demo: agreed to call back tomorrow after school.")
    second = contact_log(
        actor=counsellor,
        line=line,
        channel="walk_in",
        occurred_at=now - timedelta(hours=5),
        values=WrapupValues(
            call_type="data",
            caller_type="adult_about_child",
            age_band="10-12",
            gender="boy",
            region="KE-001",
            categories=["violence.ocsea.cyberbullying"],
            risk_level="low",
            child_wants=["advice"],
            actions_taken=["information"],
            summary="Demo: a father about his son being mocked in a class group chat.",
        ),
    )
    case_open(actor=counsellor, wrapup=second)
