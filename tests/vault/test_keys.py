"""Where keys come from: the embedded key file, production's refusal, validation, the generator."""

import io
import json
import os
import stat
import threading

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from helpline.vault.errors import KeyConfigurationError
from helpline.vault.keys import (
    KEY_BYTES,
    _decode_key,
    kek_entry_generate,
    keys_get,
    keys_reset_cache,
    keyset_generate,
    keyset_load,
    keyset_parse,
)


@pytest.fixture
def key_file(settings, tmp_path):
    """Embedded mode with no HELPLINE_KEYS: the key file is the source."""
    settings.PRODUCTION = False
    settings.HELPLINE_KEYS = ""
    settings.HELPLINE_KEYS_FILE = str(tmp_path / "var" / "keys.json")
    return tmp_path / "var" / "keys.json"


@pytest.fixture
def open_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_embedded_mode_creates_the_key_file_owner_only(key_file, open_umask):
    keyset = keys_get()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(keyset.current.key) == KEY_BYTES and len(keyset.index_key) == KEY_BYTES
    assert [path.name for path in key_file.parent.iterdir()] == ["keys.json"]  # no temporary left behind


def test_an_existing_key_file_is_reused_not_replaced(key_file):
    first = keys_get()
    keys_reset_cache()
    second = keys_get()
    assert second == first
    assert keyset_parse(key_file.read_bytes(), source="test") == first


def test_processes_starting_together_agree_on_one_key_file(key_file):
    results, barrier = [], threading.Barrier(8)

    def load():
        barrier.wait()
        results.append(keyset_load())

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(result == results[0] for result in results)


def test_the_environment_document_wins_over_the_file(key_file, settings):
    document = keyset_generate()
    settings.HELPLINE_KEYS = json.dumps(document)
    assert keys_get().current.id == document["keks"][0]["id"]
    assert not key_file.exists()


def test_the_cache_follows_setting_changes(settings):
    first, second = keyset_generate(), keyset_generate()
    settings.HELPLINE_KEYS = json.dumps(first)
    assert keys_get().current.id == first["keks"][0]["id"]
    settings.HELPLINE_KEYS = json.dumps(second)
    assert keys_get().current.id == second["keks"][0]["id"]


@pytest.mark.parametrize("keys_file", ["", "missing"])
def test_production_without_keys_refuses_and_generates_nothing(settings, tmp_path, keys_file):
    settings.PRODUCTION = True
    settings.HELPLINE_KEYS = ""
    settings.HELPLINE_KEYS_FILE = str(tmp_path / keys_file) if keys_file else ""
    with pytest.raises(ImproperlyConfigured):
        keyset_load()
    with pytest.raises(ImproperlyConfigured):
        apps.get_app_config("vault").ready()
    assert list(tmp_path.iterdir()) == []


def test_production_with_a_valid_key_file_starts(settings, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(keyset_generate()))
    settings.PRODUCTION = True
    settings.HELPLINE_KEYS = ""
    settings.HELPLINE_KEYS_FILE = str(path)
    apps.get_app_config("vault").ready()
    assert keys_get().current.key


def test_production_with_a_malformed_key_refuses_without_printing_it(settings):
    document = keyset_generate()
    short_key = document["keks"][0]["key"][:30]
    document["keks"][0]["key"] = short_key
    settings.PRODUCTION = True
    settings.HELPLINE_KEYS = json.dumps(document)
    with pytest.raises(ImproperlyConfigured) as caught:
        apps.get_app_config("vault").ready()
    assert "must decode to 32 bytes" in str(caught.value)
    assert short_key not in str(caught.value)
    assert document["index_key"] not in str(caught.value)


BAD_DOCUMENTS = {
    "not json": "{keks",
    "not an object": "[]",
    "no keks": {"index_key": "x"},
    "empty keks": {"keks": []},
    "bad id": {"keks": [{"id": "has space", "key": "x"}]},
    "duplicate id": "duplicate",
    "not base64": {"keks": [{"id": "a", "key": "!!!!"}]},
    "index key missing": "no-index",
    "index key equals a kek": "same-index",
}


@pytest.mark.parametrize("case", BAD_DOCUMENTS)
def test_malformed_key_sets_are_refused(case):
    good = keyset_generate()
    document = BAD_DOCUMENTS[case]
    if document == "duplicate":
        document = {**good, "keks": good["keks"] * 2}
    elif document == "no-index":
        document = {"keks": good["keks"]}
    elif document == "same-index":
        document = {**good, "index_key": good["keks"][0]["key"]}
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(KeyConfigurationError) as caught:
        keyset_parse(text, source="HELPLINE_KEYS")
    for entry in good["keks"]:
        assert entry["key"] not in str(caught.value)
    assert good["index_key"] not in str(caught.value)


def test_keys_are_accepted_with_or_without_padding():
    entry = kek_entry_generate(kek_id="k-1")
    assert _decode_key(entry["key"].rstrip("="), what="k") == _decode_key(entry["key"], what="k")


def test_keys_generate_prints_a_usable_kek_entry_and_a_full_key_set():
    out = io.StringIO()
    call_command("keys_generate", "--id", "k-2026-11", stdout=out)
    entry = json.loads(out.getvalue())
    assert entry["id"] == "k-2026-11"
    out = io.StringIO()
    call_command("keys_generate", "--keyset", stdout=out)
    document = json.loads(out.getvalue())
    assert keyset_parse(out.getvalue(), source="stdout").current.id.startswith("k-")
    # The operator's rotation step: the new entry goes first.
    rotated = keyset_parse(json.dumps({**document, "keks": [entry, *document["keks"]]}), source="edited")
    assert [kek.id for kek in rotated.keks] == ["k-2026-11", document["keks"][0]["id"]]
