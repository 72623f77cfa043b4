"""Fixtures for the consoles: a line with its web chat, people in every role, children writing in."""

import secrets
from types import SimpleNamespace

import pytest
from django.test import Client

from helpline.models import Contact, Presence, Staff
from helpline.services.inbound import message_receive
from helpline.services.queue import contact_accept, presence_set
from helpline.webchat.services import webchat_endpoint_ensure
from tests.conftest import PASSWORD, login_verified


@pytest.fixture
def chat_endpoint(demo_line):
    demo_line.risk_phrases = {"en": ["kill myself", "he is here now"]}
    demo_line.save(update_fields=["risk_phrases"])
    return webchat_endpoint_ensure(line=demo_line)


@pytest.fixture
def other_endpoint(other_line):
    return webchat_endpoint_ensure(line=other_line)


def child_writes(endpoint, body="hello", *, token=None, language="en", age_band="13-15", media=()):
    """A child writes in the web chat; returns their (waiting or joined) contact."""
    inbound = message_receive(
        endpoint=endpoint,
        sender=token or secrets.token_hex(16),
        body=body,
        language=language,
        age_band=age_band,
        media=media,
    )
    return inbound.contact


def sender_of(contact) -> str:
    from helpline.vault.services import unseal

    return unseal(Contact.objects.select_related("data_key").get(pk=contact.pk), "sender")


def held_by(user, contact) -> Contact:
    """``user`` becomes available and accepts ``contact``."""
    staff = Staff.objects.get(user=user)
    presence_set(staff=staff, presence=Presence.AVAILABLE)
    return contact_accept(staff=staff, contact_id=contact.pk)


def client_for(user) -> Client:
    return login_verified(Client(), user)


def password_only_client(user) -> Client:
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def world(demo_line, chat_endpoint, counsellor, colleague, supervisor, far_supervisor, admin_user, authority, outsider):
    """Everyone, one conversation held by ``counsellor`` and one child waiting."""
    held = held_by(counsellor, child_writes(chat_endpoint, "I am scared"))
    waiting = child_writes(chat_endpoint, "is anyone there")
    return SimpleNamespace(
        line=demo_line,
        endpoint=chat_endpoint,
        counsellor=counsellor,
        colleague=colleague,
        supervisor=supervisor,
        far_supervisor=far_supervisor,
        admin=admin_user,
        authority=authority,
        outsider=outsider,
        held=held,
        waiting=waiting,
    )
