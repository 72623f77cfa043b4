"""The administrators' SOP pages: versions per line, the editor with checks as one types, dry runs,
comparisons and activation. Thin: parse, call a selector or a service, render.

Administrators configure but do not read case content: a dry run against a case (by its
reference) shows only its facts (codes and bands, from ``cases.selectors.case_facts``),
never names or notes, and the look-up is audited.
"""

import difflib
import json
from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from helpline.access import is_administrator
from helpline.models import Helpline
from referrals.sop.demo import DEMO_SOP
from referrals.sop.document import SopInvalid, sop_load
from referrals.sop.engine import explain, sop_from_data
from referrals.sop.models import SopStatus, SopVersion
from referrals.sop.selectors import (
    sop_active_version,
    sop_dry_run_facts,
    sop_known_categories,
    sop_lines,
    sop_versions_for,
)
from referrals.sop.services import SopNotEditable, sop_activate, sop_draft_save

# The facts a dry run starts from: a made-up case of the contract's shape (no real case behind it).
SAMPLE_FACTS = """\
channel: webchat
channels: [webchat]
categories: [violence.ocsea.sextortion]
risk_level: high
caller_type: child
age_band: 13-15
age: 14
gender: girl
region: KE-047
incident: {platform: instagram, urls_reported: false, imagery_exists: true, immediate_danger: false}
people:
  - {role: alleged_perpetrator, relationship: stranger_online, age_band: 18+, is_caregiver: false}
perpetrator_is_caregiver: false
"""
MAX_FACTS_CHARS = 20_000


def administrator_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_administrator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class SopTextForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("SOP document (YAML)"), widget=forms.Textarea, strip=False)
    reason = forms.CharField(label=gettext_lazy("What changed (for the audit trail)"), required=False, max_length=500)


class ActivateForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why activate this version"), max_length=500)


def _errors_context(text: str, line) -> dict:
    data, errors = sop_load(text, known_categories=sop_known_categories(line) if line else None)
    return {"errors": errors, "checked": True, "rule_count": len(data.get("rules") or []) if not errors else 0}


@administrator_required
def index(request):
    lines = [(line, list(sop_versions_for(line))) for line in sop_lines()]
    return render(request, "sop/index.html", {"lines": lines})


@administrator_required
@require_http_methods(["GET", "POST"])
def draft_new(request, line_slug):
    line = get_object_or_404(Helpline, slug=line_slug)
    if request.method == "POST":
        return _save(request, line=line, version=None)
    active = sop_active_version(line)
    start = active.text if active else DEMO_SOP.read_text(encoding="utf-8")
    form = SopTextForm(initial={"text": start})
    return _editor(request, line=line, version=None, form=form)


@administrator_required
@require_http_methods(["GET", "POST"])
def version_detail(request, pk):
    version = get_object_or_404(SopVersion.objects.select_related("line"), pk=pk)
    if request.method == "POST":
        if version.status != SopStatus.DRAFT:
            raise Http404
        return _save(request, line=version.line, version=version)
    form = SopTextForm(initial={"text": version.text})
    return _editor(request, line=version.line, version=version, form=form)


def _editor(request, *, line, version, form, status=200, errors=None):
    text = form["text"].value() or ""
    context = {
        "line": line,
        "version": version,
        "editable": version is None or version.status == SopStatus.DRAFT,
        "form": form,
        "sample_facts": SAMPLE_FACTS,
        "versions": list(sop_versions_for(line)),
        **_errors_context(text, line),
    }
    if errors is not None:
        context["errors"] = errors
    return render(request, "sop/editor.html", context, status=status)


def _save(request, *, line, version):
    form = SopTextForm(request.POST)
    if not form.is_valid():
        return _editor(request, line=line, version=version, form=form, status=400)
    try:
        saved = sop_draft_save(
            actor=request.user,
            line=line,
            text=form.cleaned_data["text"],
            version=version,
            reason=form.cleaned_data["reason"],
        )
    except SopInvalid as exc:
        return _editor(request, line=line, version=version, form=form, status=400, errors=exc.errors)
    except SopNotEditable as exc:
        messages.error(request, str(exc))
        return redirect("sop:version", pk=version.pk)
    messages.success(request, _("Draft version %(number)s saved.") % {"number": saved.number})
    return redirect("sop:version", pk=saved.pk)


@administrator_required
@require_POST
def check(request):
    """The editor's live check (htmx): the errors of the text as it stands, with line and column."""
    line = Helpline.objects.filter(slug=request.POST.get("line", "")).first()
    return render(request, "sop/_errors.html", _errors_context(request.POST.get("text", ""), line))


def _facts_from_text(text: str) -> dict:
    if len(text) > MAX_FACTS_CHARS:
        raise ValueError(_("The facts are too long."))
    try:
        facts = YAML(typ="safe").load(text)  # JSON is YAML too
    except YAMLError:
        raise ValueError(_("The facts are not valid YAML or JSON.")) from None
    if not isinstance(facts, dict):
        raise ValueError(_("The facts must be a mapping (key: value)."))
    # Through JSON, so the engine sees what the case-facts contract gives it (no dates or other types).
    return json.loads(json.dumps(facts, default=str))


@administrator_required
@require_POST
def dry_run(request):
    """Which rules of the editor's text fire for some facts, and why (htmx). Nothing is stored or proposed."""
    line = Helpline.objects.filter(slug=request.POST.get("line", "")).first()
    context = {"line": line}
    data, errors = sop_load(request.POST.get("text", ""), known_categories=sop_known_categories(line) if line else None)
    if errors:
        context["problem"] = _("Fix the document's mistakes first.")
        return render(request, "sop/_dry_run.html", context)
    reference = request.POST.get("case", "").strip()
    try:
        if reference:
            facts = sop_dry_run_facts(actor=request.user, line=line, reference=reference)
            if facts is None:
                raise ValueError(_("This line has no case with that reference."))
        else:
            facts = _facts_from_text(request.POST.get("facts", ""))
    except ValueError as exc:
        context["problem"] = str(exc)
        return render(request, "sop/_dry_run.html", context)
    sop = sop_from_data(data)
    results = explain(facts, sop)
    context.update({"sop": sop, "results": results, "fired": sum(1 for result in results if result.fired)})
    if reference:
        context["case_facts"] = json.dumps(facts, indent=1, ensure_ascii=False)
    return render(request, "sop/_dry_run.html", context)


def _diff(older: SopVersion, newer: SopVersion) -> list[tuple[str, str]]:
    lines = difflib.unified_diff(
        older.text.splitlines(),
        newer.text.splitlines(),
        fromfile=f"v{older.number}",
        tofile=f"v{newer.number}",
        lineterm="",
    )
    kinds = {"+": "added", "-": "removed", "@": "hunk"}
    return [(kinds.get(text[:1], "same") if not text.startswith(("+++", "---")) else "file", text) for text in lines]


@administrator_required
def compare(request, line_slug):
    line = get_object_or_404(Helpline, slug=line_slug)
    versions = list(sop_versions_for(line))
    by_number = {version.number: version for version in versions}
    try:
        first = by_number.get(int(request.GET.get("a", "")))
        second = by_number.get(int(request.GET.get("b", "")))
    except ValueError:
        first = second = None
    if first is None or second is None:
        active = next((version for version in versions if version.status == SopStatus.ACTIVE), None)
        second = second or (versions[0] if versions else None)
        first = first or active or (versions[1] if len(versions) > 1 else second)
    diff = _diff(first, second) if first and second else []
    context = {"line": line, "versions": versions, "first": first, "second": second, "diff": diff}
    return render(request, "sop/compare.html", context)


@administrator_required
@require_http_methods(["GET", "POST"])
def activate(request, pk):
    version = get_object_or_404(SopVersion.objects.select_related("line"), pk=pk)
    active = sop_active_version(version.line)
    form = ActivateForm(request.POST or None)
    problem = None
    if request.method == "POST" and version.status != SopStatus.ACTIVE and form.is_valid():
        try:
            sop_activate(actor=request.user, version=version, reason=form.cleaned_data["reason"])
        except SopInvalid as exc:
            problem = exc.errors
        else:
            messages.success(
                request,
                _("Version %(number)s is now the active SOP of %(line)s.")
                % {"number": version.number, "line": version.line.name},
            )
            return redirect("sop:index")
    context = {
        "version": version,
        "active": active,
        "form": form,
        "problem": problem,
        "diff": _diff(active, version) if active and active.pk != version.pk else [],
    }
    return render(request, "sop/activate.html", context, status=400 if request.method == "POST" else 200)
