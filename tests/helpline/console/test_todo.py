"""The console's "Waiting for you" list (helpline.todo): any app's source, urgent first then oldest,
labels escaped, the supervisor's team list apart, and ``todo.changed`` after commit, ids only."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from helpline.todo import TodoItem, _sources, console_todo_changed, console_todo_register, console_todos_for
from tests.helpline.console.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def chores():
    """A source of three items for the counsellor (one urgent), and one for the team."""
    now = timezone.now()

    def source(user, *, team):
        if team:
            return [TodoItem(key="team-1", kind="chore", label="Team chore", since=now, url="/t/", for_whom="amina")]
        if user.username != "counsellor":
            return []
        return [
            TodoItem(key="old", kind="chore", label="Old <b>chore</b>", since=now - timedelta(hours=3), url="/o/"),
            TodoItem(key="new", kind="chore", label="New chore", since=now - timedelta(minutes=1), url="/n/"),
            TodoItem(
                key="late",
                kind="chore",
                label="Late chore",
                since=now - timedelta(hours=1),
                urgent_at=now - timedelta(minutes=5),
                url="/l/",
                inline=True,
                action="Do it",
            ),
        ]

    console_todo_register(name="tests.chores", source=source, order=1)
    yield
    _sources.pop("tests.chores")


def test_urgent_items_come_first_then_the_oldest(chores, counsellor, colleague):
    assert [item.key for item in console_todos_for(counsellor) if item.kind == "chore"] == ["late", "old", "new"]
    assert [item.key for item in console_todos_for(colleague) if item.kind == "chore"] == []


def test_the_console_shows_them_escaped_with_their_age_and_the_inline_link(chores, counsellor):
    client = client_for(counsellor)
    page = client.get("/console/").content.decode()
    assert "Waiting for you" in page and "Old &lt;b&gt;chore&lt;/b&gt;" in page and "Old <b>chore" not in page
    assert 'hx-get="/l/" hx-target="#todo-open"' in page and ">Do it<" in page
    assert 'href="/o/"' in page and 'hx-get="/o/"' not in page  # not inline: a plain link
    assert "Team chore" not in page
    fragment = client.get("/console/todo/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="todo-list"') and 'data-refresh-on="todo.changed:self"' in fragment


def test_the_supervisor_page_shows_the_team_s_list(chores, supervisor):
    page = client_for(supervisor).get("/supervisor/").content.decode()
    assert "Waiting on the team" in page and "Team chore" in page and "for amina" in page
    assert 'data-refresh-on="todo.changed"' in page


def test_registering_a_name_again_replaces_its_source(chores, counsellor):
    console_todo_register(name="tests.chores", source=lambda user, *, team: [], order=1)
    assert [item for item in console_todos_for(counsellor) if item.kind == "chore"] == []


async def _received(layer, channel, *, wait=0.5) -> list[dict]:
    events = []
    while True:
        try:
            events.append(await asyncio.wait_for(layer.receive(channel), wait))
        except TimeoutError:
            return events


def _announce(*, commit: bool) -> None:
    try:
        with transaction.atomic():
            console_todo_changed(staff_ids=[7, 7, 3], line_ids=[2])
            if not commit:
                raise RuntimeError("rolled back")
    except RuntimeError:
        pass


@pytest.mark.django_db(transaction=True)
async def test_the_change_is_announced_after_commit_with_ids_only_and_never_for_a_rollback():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    for group in ("staff-3", "staff-7", "line-2"):
        await layer.group_add(group, channel)
    await sync_to_async(_announce)(commit=False)
    assert await _received(layer, channel) == []
    await sync_to_async(_announce)(commit=True)
    assert sorted(await _received(layer, channel), key=str) == sorted(
        [
            {"type": "todo.changed", "staff_id": 3},
            {"type": "todo.changed", "staff_id": 7},
            {"type": "todo.changed", "line_id": 2},
        ],
        key=str,
    )
