"""A supervisor blocks an abusive sender from a conversation they can see, and lifts blocks from a list.

Nobody else can; nobody sees the number; every block and unblock is audited; a
blocked sender's next conversation is answered once and never queued.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpline import actions
from helpline.audit.models import AuditEvent
from helpline.models import BlockedSender, Contact, ContactStatus, Direction, Message, Staff
from helpline.services.blocks import sender_block
from helpline.services.inbound import message_receive
from helpline.services.queue import contact_close, contact_end
from tests.helpline.console.conftest import client_for, held_by

pytestmark = pytest.mark.django_db

ABUSER = "+15557654321"
BLOCKED_REPLY = "We can't take your message on this number."


@pytest.fixture
def abusive(sms_endpoint, recording_gateway, counsellor):
    """An SMS conversation from an abusive sender, held by the counsellor."""
    contact = message_receive(
        endpoint=sms_endpoint, sender=ABUSER, body="you are all idiots", provider_id="SM1"
    ).contact
    return held_by(counsellor, contact)


def block_url(contact):
    return f"/supervisor/c/{contact.pk}/block/"


def writes_again(sms_endpoint, body, sid):
    return message_receive(endpoint=sms_endpoint, sender=ABUSER, body=body, provider_id=sid).contact


def finish(contact, counsellor):
    staff = Staff.objects.get(user=counsellor)
    contact_end(actor=staff, contact=contact)
    contact_close(actor=staff, contact=Contact.objects.get(pk=contact.pk))


def test_a_supervisor_blocks_the_sender_from_the_conversation_without_seeing_the_number(abusive, supervisor):
    client = client_for(supervisor)
    page = client.get(block_url(abusive))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Block this sender" in content and "Demo line" in content
    assert ABUSER not in content and ABUSER.lstrip("+") not in content

    response = client.post(block_url(abusive), {"reason": "Repeated abuse of counsellors", "duration": "7d"})
    assert response.status_code == 302 and response["Location"] == "/supervisor/blocks/"
    block = BlockedSender.objects.get()
    assert block.sender_index == abusive.sender_index and block.line_id == abusive.line_id
    assert block.created_by.user == supervisor
    assert timedelta(days=6, hours=23) < block.expires_at - timezone.now() <= timedelta(days=7)
    [event] = AuditEvent.objects.filter(action=actions.SENDER_BLOCKED)
    assert (event.actor_username, event.record_id, event.reason) == (
        "supervisor",
        str(block.pk),
        "Repeated abuse of counsellors",
    )
    assert event.details["contact"] == str(abusive.pk) and event.details["line"] == "demo"
    assert ABUSER not in str(event.details) and block.sender_index not in str(event.details)

    listing = client.get("/supervisor/blocks/").content.decode()
    assert "Repeated abuse of counsellors" in listing and "supervisor" in listing
    assert ABUSER not in listing and block.sender_index not in listing


def test_the_read_along_pane_links_to_the_block_page(abusive, supervisor):
    content = client_for(supervisor).get(f"/supervisor/c/{abusive.pk}/").content.decode()
    assert f'href="{block_url(abusive)}"' in content


def test_the_blocked_senders_next_message_is_answered_once_and_never_queued(
    abusive, supervisor, counsellor, sms_endpoint
):
    client_for(supervisor).post(block_url(abusive), {"reason": "Threats", "duration": "lifted"})
    # The conversation in which the block was made goes on until it is ended.
    assert writes_again(sms_endpoint, "still here", "SM2").pk == abusive.pk
    finish(abusive, counsellor)

    first = writes_again(sms_endpoint, "let me in", "SM3")
    second = writes_again(sms_endpoint, "again", "SM4")
    assert first.pk == second.pk != abusive.pk
    assert first.blocked and first.status == ContactStatus.CLOSED and first.counsellor is None
    assert not Contact.objects.filter(status=ContactStatus.WAITING).exists()
    replies = Message.objects.filter(contact=first, direction=Direction.OUTBOUND, automatic=True)
    assert replies.count() == 1
    assert Message.objects.filter(contact=first, direction=Direction.INBOUND).count() == 2


def test_lifting_a_block_from_the_list_is_audited_and_the_sender_is_queued_again(
    abusive, supervisor, counsellor, sms_endpoint
):
    client = client_for(supervisor)
    client.post(block_url(abusive), {"reason": "Threats", "duration": "1d"})
    block = BlockedSender.objects.get()
    finish(abusive, counsellor)
    response = client.post(f"/supervisor/blocks/{block.pk}/unblock/", {"reason": "Apologised; a real need"})
    assert response.status_code == 302
    assert not BlockedSender.objects.exists()
    [event] = AuditEvent.objects.filter(action=actions.SENDER_UNBLOCKED)
    assert (event.actor_username, event.record_id, event.reason) == (
        "supervisor",
        str(block.pk),
        "Apologised; a real need",
    )
    contact = writes_again(sms_endpoint, "I need help", "SM5")
    assert contact.status == ContactStatus.WAITING and not contact.blocked


def test_an_expired_block_no_longer_holds_and_leaves_the_list(abusive, supervisor, counsellor, sms_endpoint):
    sender_block(actor=Staff.objects.get(user=supervisor), contact=abusive, reason="Pranks", expires_at=None)
    BlockedSender.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    finish(abusive, counsellor)
    assert writes_again(sms_endpoint, "hello", "SM6").status == ContactStatus.WAITING
    assert "Pranks" not in client_for(supervisor).get("/supervisor/blocks/").content.decode()


def test_a_block_without_a_reason_or_a_second_block_is_refused_with_a_clear_error(abusive, supervisor):
    client = client_for(supervisor)
    response = client.post(block_url(abusive), {"reason": "  ", "duration": "7d"})
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    assert not BlockedSender.objects.exists()
    client.post(block_url(abusive), {"reason": "Threats", "duration": "lifted"})
    again = client.post(block_url(abusive), {"reason": "Threats again", "duration": "1d"})
    assert again.status_code == 422
    assert "already blocked on this line until the block is lifted" in again.content.decode()
    assert BlockedSender.objects.count() == 1
    assert AuditEvent.objects.filter(action=actions.SENDER_BLOCKED).count() == 1


def test_a_counsellor_cannot_block_or_unblock(abusive, counsellor, supervisor):
    sender_block(actor=Staff.objects.get(user=supervisor), contact=abusive, reason="Threats")
    block = BlockedSender.objects.get()
    client = client_for(counsellor)
    assert client.get(block_url(abusive)).status_code == 403
    assert client.post(block_url(abusive), {"reason": "mine", "duration": "1d"}).status_code == 403
    assert client.get("/supervisor/blocks/").status_code == 403
    assert client.post(f"/supervisor/blocks/{block.pk}/unblock/").status_code == 403
    assert BlockedSender.objects.filter(pk=block.pk).exists()


def test_a_supervisor_of_another_line_cannot_see_block_or_unblock(abusive, supervisor, far_supervisor):
    sender_block(actor=Staff.objects.get(user=supervisor), contact=abusive, reason="Threats on the demo line")
    block = BlockedSender.objects.get()
    client = client_for(far_supervisor)
    assert client.get(block_url(abusive)).status_code == 404
    assert client.post(block_url(abusive), {"reason": "not mine", "duration": "1d"}).status_code == 404
    assert "Threats on the demo line" not in client.get("/supervisor/blocks/").content.decode()
    assert client.post(f"/supervisor/blocks/{block.pk}/unblock/").status_code == 404
    assert BlockedSender.objects.count() == 1
    assert AuditEvent.objects.filter(action=actions.SENDER_UNBLOCKED).count() == 0


@pytest.mark.parametrize("role", ["admin_user", "authority", "outsider"])
def test_other_roles_cannot_block(abusive, request, role):
    client = client_for(request.getfixturevalue(role))
    assert client.post(block_url(abusive), {"reason": "x", "duration": "1d"}).status_code == 403
    assert not BlockedSender.objects.exists()
