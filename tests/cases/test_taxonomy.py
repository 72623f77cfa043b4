"""Taxonomy versions: validated on import, never changed, never losing a code when a new one is published."""

import copy

import pytest
from django.core.management import call_command

from cases.models import Category, CategoryMapping, TaxonomyVersion
from cases.services.taxonomy import (
    DEFAULT_DOCUMENT,
    TaxonomyInvalid,
    taxonomy_document_load,
    taxonomy_import,
    taxonomy_publish,
)
from helpline.audit.models import AuditEvent


@pytest.fixture
def document():
    return taxonomy_document_load(DEFAULT_DOCUMENT)


def test_the_shipped_taxonomy_imports_with_ocsea_codes_labels_and_cpims_codes(db, document):
    version = taxonomy_import(actor=None, document=document, activate=True)
    sextortion = Category.objects.get(version=version, code="violence.ocsea.sextortion")
    assert sextortion.parent.code == "violence.ocsea"
    assert set(sextortion.labels) == {"en", "fr", "sw"}
    assert sextortion.national == {"cpims": "OAST"}
    assert version.active
    assert Category.objects.filter(version=version, depth=0).count() == 11
    assert AuditEvent.objects.filter(action="taxonomy.published", record_id=str(version.pk)).exists()


def test_importing_the_same_file_again_changes_nothing(db, document):
    first = taxonomy_import(actor=None, document=document)
    again = taxonomy_import(actor=None, document=document)
    assert first.pk == again.pk and TaxonomyVersion.objects.count() == 1


def test_a_published_version_never_changes(db, document):
    taxonomy_import(actor=None, document=document)
    changed = copy.deepcopy(document)
    changed["categories"][0]["labels"]["en"] = "Renamed"
    with pytest.raises(TaxonomyInvalid, match="never changes"):
        taxonomy_import(actor=None, document=changed)


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda d: d["categories"][0].update(code="Missing Children"), "categories/0/code"),
        (lambda d: d["categories"][0]["labels"].pop("en"), "labels"),
        (lambda d: d["categories"][1]["children"][0].update(code="physical"), "must start with its parent"),
        (lambda d: d["categories"].append(copy.deepcopy(d["categories"][0])), "appears twice"),
        (lambda d: d.update(colour="red"), "colour"),
    ],
)
def test_an_invalid_file_is_refused_saying_where(db, document, breakage, message):
    breakage(document)
    with pytest.raises(TaxonomyInvalid, match=message):
        taxonomy_import(actor=None, document=document)
    assert not TaxonomyVersion.objects.exists()


def _next_version(document, *, drop: str, mapped_to: str | None):
    new = copy.deepcopy(document)
    new["version"] = "chi-2027.1"
    violence = next(item for item in new["categories"] if item["code"] == "violence")
    violence["children"] = [item for item in violence["children"] if item["code"] != drop]
    if mapped_to:
        new["mappings"] = [{"from_version": document["version"], "map": {drop: [mapped_to]}}]
    return new


def test_a_new_version_must_map_every_code_it_drops(db, document):
    old = taxonomy_import(actor=None, document=document, activate=True)
    unmapped = taxonomy_import(actor=None, document=_next_version(document, drop="violence.fgm", mapped_to=None))
    with pytest.raises(TaxonomyInvalid, match="violence.fgm"):
        taxonomy_publish(actor=None, version=unmapped)
    old.refresh_from_db()
    assert old.active


def test_publishing_a_mapped_version_keeps_the_mapping_as_data(db, document):
    taxonomy_import(actor=None, document=document, activate=True)
    new_document = _next_version(document, drop="violence.fgm", mapped_to="violence.physical")
    new = taxonomy_import(actor=None, document=new_document, activate=True)
    assert TaxonomyVersion.objects.get(active=True) == new
    mapping = CategoryMapping.objects.filter(from_code="violence.fgm", to_version=new)
    assert list(mapping.values_list("to_code", flat=True)) == ["violence.physical"]


def test_the_command_imports_and_activates(db, capsys):
    call_command("taxonomy_import", str(DEFAULT_DOCUMENT), "--activate")
    assert "chi-2026.1" in capsys.readouterr().out
    assert TaxonomyVersion.objects.get().active
