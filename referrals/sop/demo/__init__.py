"""The demo SOP for online abuse, loaded onto the demo line by ``seed_demo``.

The agency codes are the ones ``referrals`` seeds for the demo: ke-police-dcs (police,
national), ke-police-nairobi (police, KE-047), ke-childrens-services-nairobi and
ke-dcs-national (social services), iwf and ncmec (reporting portals).
"""

from pathlib import Path

from referrals.sop.models import SopVersion
from referrals.sop.services import sop_import

DEMO_SOP = Path(__file__).resolve().parent / "online-abuse.yaml"


def sop_demo_load(line) -> None:
    """Import and activate the demo SOP on a line that has no SOP yet (idempotent)."""
    if SopVersion.objects.filter(line=line).exists():
        return
    sop_import(actor=None, line=line, text=DEMO_SOP.read_text(encoding="utf-8"), activate=True, reason="Demo data")
