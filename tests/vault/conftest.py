"""Vault fixtures: every test gets its own fresh key set through settings.HELPLINE_KEYS."""

import json

import pytest

from helpline.vault.keys import keyset_generate

BODY = "I am 13 and a man online says he will share my photos unless I send more"


def keys_use(settings, document: dict) -> None:
    """Switch the process to this key set (overriding the setting drops the key cache)."""
    settings.HELPLINE_KEYS = json.dumps(document)


@pytest.fixture(autouse=True)
def _forget_protected_values():
    """Each test is its own context: values another test unsealed are not remembered for redaction here."""
    from helpline.vault.redaction import forget_protected

    forget_protected()
    yield
    forget_protected()


@pytest.fixture(autouse=True)
def keyset(settings):
    document = keyset_generate()
    keys_use(settings, document)
    return document


@pytest.fixture
def note(db):
    from helpline.vault.services import datakey_create, seal
    from tests.testapp.models import Note

    note = Note(data_key=datakey_create(), title="first contact")
    seal(note, "body", BODY)
    seal(note, "summary", "Sextortion; child safe at home tonight")
    note.save()
    return note


def reload(instance):
    return type(instance).objects.select_related().get(pk=instance.pk)


@pytest.fixture
def person(django_user_model):
    """Someone who reads protected content (roles and 2FA are not the vault's business)."""
    return django_user_model.objects.create_user("reader")
