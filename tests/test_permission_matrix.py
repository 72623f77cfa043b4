"""Every URL of the project, tried by every actor: who gets in, who is sent away, who is refused.

The rules live beside each app's tests (``tests/<app>/permission_rules.py``); how to write one,
and how to give a ``{parameter}`` its value, is in ``tests/permissions.py``. A URL without a
rule fails ``test_every_url_has_a_rule``, naming it.
"""

from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import resolve

from helpline.audit.models import AuditEvent
from tests.conftest import PASSWORD, login_verified
from tests.permissions import ACTOR_USERS, ACTORS, ANONYMOUS, PASSWORD_ONLY, rules, url_patterns

RULES = rules()
CASES = [(rule, actor) for rule in RULES for actor in ACTORS if actor in rule.outcomes]
# What any request may change without doing anything: the session (and the idle clock in it).
UNWATCHED_TABLES = {"helpline_hashedsession"}


def test_every_url_has_a_rule():
    covered = {rule.url_name for rule in RULES}
    missing = [pattern for pattern in url_patterns() if pattern.key not in covered]
    assert not missing, "URLs with no permission rule (add them to tests/<app>/permission_rules.py):\n" + "\n".join(
        f"  {pattern.key}  /{pattern.route}  ({pattern.view})" for pattern in missing
    )


def test_every_rule_names_every_actor():
    incomplete = [
        f"  {rule}: no outcome for {missing}"
        for rule in RULES
        if (missing := [actor for actor in ACTORS if actor not in rule.outcomes])
    ]
    assert not incomplete, "Rules missing actors:\n" + "\n".join(incomplete)


def test_every_rule_is_for_a_url_that_exists():
    keys = {pattern.key for pattern in url_patterns()}
    stale = [str(rule) for rule in RULES if rule.url_name not in keys]
    assert not stale, "Rules for URLs that no longer exist:\n  " + "\n  ".join(stale)


def _client_for(actor: str, request) -> Client:
    client = Client()
    if actor == ANONYMOUS:
        return client
    user = request.getfixturevalue(ACTOR_USERS[actor])
    if actor == PASSWORD_ONLY:
        response = client.post("/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302
        return client
    return login_verified(client, user)


def _database_state() -> dict[str, str]:
    """A fingerprint of every table (the audit trail is checked on its own)."""
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and model._meta.app_label != "audit"
        }
        - UNWATCHED_TABLES
    )
    query = " UNION ALL ".join(
        f"SELECT %s, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {connection.ops.quote_name(t)} t"
        for t in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(query, tables)
        return dict(cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rule", "actor"), CASES, ids=[f"{rule.method}-{rule.url_name}-{rule.path}-{actor}" for rule, actor in CASES]
)
def test_permission(rule, actor, request):
    client = _client_for(actor, request)
    values = {name: request.getfixturevalue(f"matrix_{name}") for name in rule.params}
    for fixture in rule.uses:
        request.getfixturevalue(fixture)
    protected = request.getfixturevalue("matrix_protected")
    path, data = rule.filled(values)
    match = resolve(urlsplit(path).path)
    assert rule.url_name in (match.view_name, match.route), f"{rule}: {path} is {match.view_name}"
    before = _database_state()
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    headers = {"HX-Request": "true"} if rule.htmx else {}
    response = getattr(client, rule.method)(path, data, headers=headers)

    expected = rule.outcomes[actor]
    got = f"{response.status_code} {response.get('Location', '')}".strip()
    assert expected.matches(response), f"{rule} as {actor}: expected {expected}, got {got}: {response.content[:300]!r}"
    if expected.refused:
        # Refused means nothing changed, nothing was read and nothing protected was shown.
        after = _database_state()
        changed = sorted(table for table in before if before[table] != after[table])
        assert not changed, f"{rule} as {actor} was refused but changed {changed}"
        recorded = list(AuditEvent.objects.filter(pk__gt=last_event).values_list("action", flat=True))
        assert set(recorded) <= set(rule.audits), f"{rule} as {actor} was refused but recorded {recorded}"
        shown = [text for text in protected if text.encode() in response.content]
        assert not shown, f"{rule} as {actor} was refused but showed {shown}"


@pytest.fixture
def matrix_protected() -> set[str]:
    """Texts that no refused request may show; the ``matrix_*`` fixtures add theirs."""
    return set()
