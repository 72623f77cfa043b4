"""SOP documents: YAML text in, a checked ``Sop`` out, or errors that say where and why.

``sop_check(text)`` returns every mistake it finds as a ``SopError`` naming the line and
column (1-based, from ruamel.yaml's node positions) and the rule id when the mistake is
inside a rule; ``sop_parse(text)`` returns the ``Sop`` or raises ``SopInvalid`` with
those errors. Three layers of checks, in order:

1. YAML itself (a tab, an unclosed bracket, a key given twice);
2. the JSON Schema (``referrals.sop.schema``, published as docs/sop.schema.json);
3. what the schema cannot say well: one of refer / notify / offer per action, a named
   agency or a kind, duplicate rule ids, share fields the referral document does not
   have, and category codes that are not in the line's active taxonomy (when known).
"""

import difflib
import io
from dataclasses import dataclass
from functools import cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from referrals.sop import vocabulary as v
from referrals.sop.engine import Sop, sop_from_data
from referrals.sop.schema import sop_schema

# Far beyond any real SOP; refuses a document built to exhaust memory (aliases of aliases).
MAX_TEXT_CHARS = 256_000
MAX_NODES = 50_000

REFER_ONLY = ("due_within", "complete_within", "urgency", "consent", "consent_by", "needs_approval", "share")
ACTION_KINDS = ("refer", "notify", "offer")
# Words people write for a share field, and the field the referral document calls it.
SHARE_HINTS = {
    "perpetrator": "people",
    "perpetrators": "people",
    "narrative": "incident.summary",
    "summary": "incident.summary",
    "urls": "incident.urls",
    "child": "child.age_band",
}

_PATTERN_HINTS = {
    v.DURATION_PATTERN: "is not a duration (write a number and m, h, d or w: 30m, 1h, 24h, 3d, 2w)",
    v.CODE_PATTERN: "is not a code (lower-case letters, digits, - and _)",
    v.CATEGORY_PATTERN: "is not a category code (lower-case words joined by dots, e.g. violence.ocsea.sextortion)",
    v.REGION_PATTERN: "is not a region code (e.g. KE or KE-047)",
}


@dataclass(frozen=True)
class SopError:
    line: int | None
    column: int | None
    rule_id: str | None
    message: str
    path: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.line else "document"
        rule = f", rule {self.rule_id}" if self.rule_id else ""
        return f"{where}{rule}: {self.message}"


class SopInvalid(ValueError):
    def __init__(self, errors: list[SopError]):
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors[:5]))


class _TooBig(Exception):
    pass


@cache
def _validator() -> Draft202012Validator:
    schema = sop_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _plain(node, budget: list[int]):
    """JSON-like data from ruamel's tree (aliases expanded, within a budget of nodes)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    if isinstance(node, dict):
        return {str(key): _plain(value, budget) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item, budget) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def _position(tree, path, *, at_key: str | None = None) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the node at ``path``, or of the key ``at_key`` inside it."""
    node = tree
    line, column = (tree.lc.line, tree.lc.col) if isinstance(tree, CommentedMap | CommentedSeq) else (0, 0)
    steps = [*path, at_key] if at_key is not None else list(path)
    for index, step in enumerate(steps):
        last_key = at_key is not None and index == len(steps) - 1
        if isinstance(node, CommentedMap) and step in node:
            line, column = node.lc.key(step) if last_key else node.lc.value(step)
            node = node[step]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            line, column = node.lc.item(step)
            node = node[step]
        else:
            break
    return line + 1, column + 1


def _rule_id(data, path) -> str | None:
    path = list(path)
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int) and isinstance(data, dict):
        rules = data.get("rules")
        if isinstance(rules, list) and path[1] < len(rules) and isinstance(rules[path[1]], dict):
            rule_id = rules[path[1]].get("id")
            return rule_id if isinstance(rule_id, str) else None
    return None


def _dotted(path) -> str:
    return "".join(
        f"[{step}]" if isinstance(step, int) else (f".{step}" if index else str(step))
        for index, step in enumerate(path)
    )


def _suggest(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(choice) for choice in choices], n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _schema_errors(data, tree) -> list[SopError]:
    errors = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: [str(step) for step in e.absolute_path]):
        errors.append(_explained(error, data, tree))
    return errors


def _explained(error, data, tree) -> SopError:
    # An alternative ("one code or a list of codes") failed: report the branch that came closest.
    # The deepest is the one that got furthest: a list of codes with one bad code names that code.
    while error.validator in ("anyOf", "oneOf") and error.context:
        deepest = max(len(e.relative_path) for e in error.context)
        error = best_match([e for e in error.context if len(e.relative_path) == deepest])
    path = list(error.absolute_path)
    at_key = None
    if error.validator == "additionalProperties":
        allowed = error.schema.get("properties", {})
        unknown = sorted(set(error.instance) - set(allowed))
        at_key = unknown[0]
        message = f"unknown key {at_key!r}{_suggest(at_key, allowed)}"
        if len(unknown) > 1:
            message += f"; also {', '.join(repr(key) for key in unknown[1:])}"
    elif error.validator == "enum":
        choices = error.validator_value
        message = f"{error.instance!r} is not one of {', '.join(map(str, choices))}{_suggest(error.instance, choices)}"
    elif error.validator == "pattern" and error.validator_value in _PATTERN_HINTS:
        message = f"{error.instance!r} {_PATTERN_HINTS[error.validator_value]}"
    elif error.validator == "required":
        message = error.message.replace("is a required property", "is missing")
    else:
        message = error.message
    line, column = _position(tree, path, at_key=at_key)
    return SopError(line, column, _rule_id(data, path), message, _dotted([*path, at_key] if at_key else path))


def _semantic_errors(data: dict, tree, known_categories) -> list[SopError]:
    errors = []

    def add(path, message, *, at_key=None):
        line, column = _position(tree, path, at_key=at_key)
        errors.append(
            SopError(line, column, _rule_id(data, path), message, _dotted([*path, at_key] if at_key else path))
        )

    # These run beside the schema's errors, so they skip whatever does not have the expected shape.
    rules = data.get("rules") if isinstance(data, dict) else None
    seen_ids: dict[str, int] = {}
    for index, rule in enumerate(rules if isinstance(rules, list) else ()):
        if not isinstance(rule, dict):
            continue
        rule_path = ["rules", index]
        rule_id = rule.get("id")
        if isinstance(rule_id, str):
            if rule_id in seen_ids:
                add([*rule_path, "id"], f"rule id {rule_id!r} is used twice (first by rule {seen_ids[rule_id] + 1})")
            seen_ids.setdefault(rule_id, index)
        if isinstance(rule.get("when"), dict):
            _check_condition(rule["when"], [*rule_path, "when"], add, known_categories)
        then = rule.get("then")
        for number, action in enumerate(then if isinstance(then, list) else ()):
            if isinstance(action, dict):
                _check_action(action, [*rule_path, "then", number], add)
    return errors


def _check_condition(condition: dict, path, add, known_categories) -> None:
    for key, value in condition.items():
        if key in ("all", "any") and isinstance(value, list):
            for index, part in enumerate(value):
                if isinstance(part, dict):
                    _check_condition(part, [*path, key, index], add, known_categories)
        elif key == "not" and isinstance(value, dict):
            _check_condition(value, [*path, key], add, known_categories)
        elif key in ("categories_any", "categories_all") and known_categories is not None:
            codes = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            for index, code in enumerate(codes):
                if isinstance(code, str) and code not in known_categories:
                    where = [*path, key] if isinstance(value, str) else [*path, key, index]
                    add(where, f"unknown category {code!r} in the active taxonomy{_suggest(code, known_categories)}")


def _check_action(action: dict, path, add) -> None:
    kinds = [kind for kind in ACTION_KINDS if kind in action]
    if len(kinds) != 1:
        found = f"it has {' and '.join(kinds)}" if kinds else "it has none"
        add(path, f"an action needs exactly one of refer, notify or offer ({found})")
        return
    if kinds[0] != "refer":
        for key in REFER_ONLY:
            if key in action:
                add(path, f"{key!r} qualifies a referral; it cannot go with {kinds[0]!r}", at_key=key)
        return
    target = action["refer"]
    if isinstance(target, dict):
        named = [key for key in ("agency", "agency_kind") if key in target]
        if len(named) != 1:
            add([*path, "refer"], "refer needs exactly one of agency (a code) or agency_kind")
        elif "jurisdiction" in target and "agency" in target:
            add(
                [*path, "refer"],
                "jurisdiction goes with agency_kind; a named agency has its own",
                at_key="jurisdiction",
            )
    if action.get("consent") == "not_required" and "consent_by" in action:
        add(path, "consent_by makes no sense when consent is not_required", at_key="consent_by")
    share = action.get("share")
    for index, name in enumerate(share if isinstance(share, list) else ()):
        if isinstance(name, str) and name not in v.SHARE_FIELDS:
            hint = f" (did you mean {SHARE_HINTS[name]!r}?)" if name in SHARE_HINTS else _suggest(name, v.SHARE_FIELDS)
            add([*path, "share", index], f"unknown share field {name!r}{hint}")


def sop_load(text: str, *, known_categories=None) -> tuple[dict | None, list[SopError]]:
    """The document's plain data and its errors (data is None when the YAML itself is broken)."""
    if len(text) > MAX_TEXT_CHARS:
        return None, [SopError(None, None, None, f"the document is longer than {MAX_TEXT_CHARS} characters")]
    try:
        tree = _yaml().load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(part for part in (exc.context, exc.problem) if part) or "not valid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return None, [SopError(line, column, None, f"YAML: {problem}")]
    except YAMLError as exc:
        return None, [SopError(None, None, None, f"YAML: {type(exc).__name__}")]
    if tree is None:
        return None, [SopError(1, 1, None, "the document is empty")]
    try:
        data = _plain(tree, [MAX_NODES])
    except _TooBig:
        return None, [SopError(None, None, None, f"the document has more than {MAX_NODES} values")]
    errors = _schema_errors(data, tree)
    errors += [e for e in _semantic_errors(data, tree, known_categories) if e not in errors]
    errors.sort(key=lambda e: (e.line or 0, e.column or 0))
    return data, errors


def sop_check(text: str, *, known_categories=None) -> list[SopError]:
    """Every mistake in ``text``; an empty list means the document is good."""
    return sop_load(text, known_categories=known_categories)[1]


def sop_parse(text: str, *, known_categories=None, version: int | None = None) -> Sop:
    """The ``Sop`` of ``text``; raises ``SopInvalid`` listing the mistakes."""
    data, errors = sop_load(text, known_categories=known_categories)
    if errors:
        raise SopInvalid(errors)
    return sop_from_data(data, version=version)
