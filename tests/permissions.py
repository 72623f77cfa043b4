"""The permission matrix's registry: every URL of the project, tried by every actor.

``tests/test_permission_matrix.py`` walks Django's URL resolver from ``config.urls`` and
fails, naming the URL, when a pattern has no rule here; then it sends each rule's request
as each actor and checks the outcome. Refused means refused completely: no table changed
(sessions aside), no audit event but the ones the rule allows, no protected text in the
response.

Adding a URL's rules
--------------------
Each app keeps its rules in ``tests/<app>/permission_rules.py`` (found by name, anywhere
under ``tests/``; nothing central to edit). A rule is one request and the outcome for every
actor in ``ACTORS``::

    from tests.permissions import LOGIN, TWO_FACTOR, expect, redirect, signed_in

    expect(
        "cases:case_detail",                       # the URL's name (namespace:name), or its route if unnamed
        "get",
        "/cases/{case}/",                          # {case} is filled by the fixture ``matrix_case``
        outcomes=signed_in(403, counsellor=200, colleague=404, supervisor=200, far_supervisor=404),
    )
    expect(
        "cases:case_note_add",
        "post",
        "/cases/{case}/notes/",
        data={"text": "a note"},                   # {params} work in form values too
        outcomes=signed_in(403, counsellor=200, colleague=404, supervisor=404, far_supervisor=404),
        uses=("matrix_second_agency",),            # fixtures the request needs besides its params
    )

An outcome is an HTTP status (``200``; ``>= 400`` counts as refused), ``LOGIN`` (sent to the
login page, refused), ``TWO_FACTOR`` (sent to the second factor, refused) or
``redirect("/console/")`` (a 302 there; pass ``refused=True`` when the redirect is a refusal).
``signed_in(default, **overrides)`` sends anonymous users to ``LOGIN`` and password-only users to
``TWO_FACTOR`` and gives every staff actor ``default`` unless overridden; ``everyone(outcome,
**overrides)`` is for public URLs. Write every role that gets in explicitly: a rule is a claim
about who may do what. One URL may have several rules (GET and POST, good and bad input).
``audits=("twilio.signature_rejected",)`` lists the audit actions a refused request may still
record; ``htmx=False`` sends the request without ``HX-Request``.

Providing a parameter's value
-----------------------------
``{name}`` in a rule's path or data is the value of the fixture ``matrix_<name>``: define it in
your ``permission_rules.py`` (those modules are loaded as pytest plugins, so their fixtures
are visible to the matrix; names are global, hence the prefix). It returns what goes into the
URL (a primary key, a slug) and may build whatever world it needs through other fixtures
(``counsellor``, ``demo_line``, ``other_line``, …). Anything a refused request must not
reveal goes into the ``matrix_protected`` set::

    @pytest.fixture
    def matrix_case(matrix_held, counsellor, matrix_protected):
        case = case_open(contact_id=matrix_held, actor=counsellor.staff, summary="Bullied at school")
        matrix_protected.add("Bullied at school")
        return case.pk

The actors are fixed here (``ACTORS`` and ``ACTOR_USERS``); adding one makes every rule
name it, which is the point.
"""

import importlib
import string
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent
RULE_MODULE_NAME = "permission_rules.py"

ANONYMOUS = "anonymous"
PASSWORD_ONLY = "password_only"
# Each signed-in actor and the user fixture behind it (password_only: the counsellor, before the code).
ACTOR_USERS = {
    PASSWORD_ONLY: "counsellor",
    "outsider": "outsider",  # a password and a device, no staff role
    "admin": "admin_user",
    "authority": "authority",
    "counsellor": "counsellor",  # holds the conversation {held} when the rule uses it
    "colleague": "colleague",  # another counsellor of the same line
    "supervisor": "supervisor",  # supervisor of the line
    "far_supervisor": "far_supervisor",  # supervisor of another line
}
ACTORS = (ANONYMOUS, *ACTOR_USERS)
STAFF_ACTORS = tuple(actor for actor in ACTORS if actor not in (ANONYMOUS, PASSWORD_ONLY))
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Outcome:
    status: int
    location: str = ""  # a redirect's target starts with this
    refused: bool = True

    def matches(self, response) -> bool:
        if response.status_code != self.status:
            return False
        return not self.location or response.get("Location", "").startswith(self.location)

    def __str__(self) -> str:
        where = f" to {self.location}" if self.location else ""
        return f"{self.status}{where} ({'refused' if self.refused else 'allowed'})"


LOGIN = Outcome(302, "/login/")
TWO_FACTOR = Outcome(302, "/2fa/")


def redirect(to: str, *, refused: bool = False) -> Outcome:
    return Outcome(302, to, refused=refused)


def outcome_of(value: int | Outcome) -> Outcome:
    if isinstance(value, Outcome):
        return value
    return Outcome(value, refused=value >= 400)


def everyone(outcome: int | Outcome, **overrides: int | Outcome) -> dict[str, int | Outcome]:
    """The same outcome for every actor (public URLs), with exceptions."""
    return {**dict.fromkeys(ACTORS, outcome), **overrides}


def signed_in(default: int | Outcome, **overrides: int | Outcome) -> dict[str, int | Outcome]:
    """Anonymous users to the login page, password-only users to the code page, staff ``default``."""
    return {ANONYMOUS: LOGIN, PASSWORD_ONLY: TWO_FACTOR, **dict.fromkeys(STAFF_ACTORS, default), **overrides}


@dataclass(frozen=True)
class Rule:
    url_name: str
    method: str
    path: str
    outcomes: dict[str, Outcome]
    data: dict[str, str] = field(default_factory=dict)
    uses: tuple[str, ...] = ()
    audits: tuple[str, ...] = ()
    htmx: bool = True
    module: str = ""

    @property
    def params(self) -> tuple[str, ...]:
        texts = [self.path, *map(str, self.data.values())]
        names = {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}
        return tuple(sorted(names))

    @property
    def fixtures(self) -> tuple[str, ...]:
        return (*self.uses, *(f"matrix_{name}" for name in self.params))

    def filled(self, values: dict[str, object]) -> tuple[str, dict[str, str]]:
        return self.path.format(**values), {key: str(value).format(**values) for key, value in self.data.items()}

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} ({self.url_name}, {self.module})"


_rules: list[Rule] = []


def expect(
    url_name: str,
    method: str,
    path: str,
    *,
    outcomes: dict[str, int | Outcome],
    data: dict[str, str] | None = None,
    uses: tuple[str, ...] = (),
    audits: tuple[str, ...] = (),
    htmx: bool = True,
) -> Rule:
    """Declare what each actor gets for one request to ``url_name`` (see the module docstring)."""
    unknown = set(outcomes) - set(ACTORS)
    if unknown:
        raise ValueError(f"{url_name}: unknown actors {sorted(unknown)}; the actors are {ACTORS}")
    if method not in METHODS:
        raise ValueError(f"{url_name}: method {method!r} is not one of {METHODS}")
    rule = Rule(
        url_name=url_name,
        method=method,
        path=path,
        outcomes={actor: outcome_of(value) for actor, value in outcomes.items()},
        data=dict(data or {}),
        uses=tuple(uses),
        audits=tuple(audits),
        htmx=htmx,
        module=_caller_module(),
    )
    _rules.append(rule)
    return rule


def _caller_module() -> str:
    import inspect

    frame = inspect.stack()[2]
    return frame.frame.f_globals.get("__name__", "?")


def rule_modules() -> list[str]:
    """Every ``tests/**/permission_rules.py``, as module names (loaded as pytest plugins by tests/conftest.py)."""
    paths = sorted(TESTS.rglob(RULE_MODULE_NAME))
    return [".".join(("tests", *path.relative_to(TESTS).with_suffix("").parts)) for path in paths]


def rules() -> list[Rule]:
    for name in rule_modules():
        importlib.import_module(name)
    return list(_rules)


# --- the URLs the matrix must cover ----------------------------------------------------------

# Left out, each for a reason: the Django admin has its own tests (tests/helpline/test_two_factor.py,
# tests/audit/test_admin.py) and its own permission system; Django's set_language only sets a cookie;
# static files are public by nature (and not routed in config.urls unless DEBUG).
EXCLUDED_NAMESPACES = ("admin",)
EXCLUDED_NAMES = ("set_language",)
EXCLUDED_VIEWS = ("django.views.static.serve", "django.contrib.staticfiles.views.serve")


@dataclass(frozen=True)
class UrlPattern:
    key: str  # "namespace:name", or the route for an unnamed pattern
    route: str
    view: str


def url_patterns(urlconf: str = "config.urls") -> list[UrlPattern]:
    """Every pattern reachable from ``urlconf``, through includes, minus the exclusions above."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found = []

    def walk(patterns, prefix: str, namespaces: tuple[str, ...]) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
                if pattern.namespace not in EXCLUDED_NAMESPACES:
                    walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern):
                callback = pattern.callback
                view = f"{callback.__module__}.{getattr(callback, '__qualname__', callback.__class__.__name__)}"
                if pattern.name in EXCLUDED_NAMES or view in EXCLUDED_VIEWS:
                    continue
                key = ":".join((*namespaces, pattern.name)) if pattern.name else route
                found.append(UrlPattern(key=key, route=route, view=view))

    walk(get_resolver(urlconf).url_patterns, "", ())
    return found
