"""The registry of approval kinds: what can be asked of a supervisor, and what a decision does.

``cases`` registers case closure itself (``cases.services.approvals``). An outer app adds its
own kinds from its AppConfig.ready() (referrals: a consent override, a sensitive referral)::

    approval_kind_register(code="consent_override", label=_("Consent override"),
                           on_decided=referral_consent_override_decided)

``on_decided(approval=, approved=, actor=)`` runs inside the deciding transaction, after the
approval row is updated, so what it writes commits or rolls back with the decision.
Codes are plain strings stored on ``cases.Approval.kind``: a new kind needs no migration.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ApprovalKind:
    code: str
    label: object  # a lazy translation
    on_decided: Callable[..., None] | None = None


_kinds: dict[str, ApprovalKind] = {}


def approval_kind_register(*, code: str, label, on_decided: Callable[..., None] | None = None) -> str:
    _kinds[code] = ApprovalKind(code=code, label=label, on_decided=on_decided)
    return code


def approval_kind_get(code: str) -> ApprovalKind | None:
    return _kinds.get(code)


def approval_kinds_registered() -> list[str]:
    """The kinds decided here (``cases.services.approvals.approval_decide``, the caseloads page).

    An app that writes ``Approval`` rows of a kind it does not register decides them on its own
    pages, through its own service; they are never shown or decided here.
    """
    return sorted(_kinds)


def approval_kind_label(code: str) -> str:
    kind = _kinds.get(code)
    return str(kind.label) if kind else code
