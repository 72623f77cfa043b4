"""GET /healthz reports the database, the channel layer and the task worker."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpline.outbox import outbox_deliver
from helpline.periodic import periodic_run_due

pytestmark = pytest.mark.django_db


def test_healthy_platform_answers_200_with_each_part(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok", "vendor": "postgresql"}
    assert body["checks"]["channel_layer"] == {"status": "ok", "backend": "RedisChannelLayer"}
    assert body["checks"]["tasks"]["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


def test_health_needs_no_login_and_reveals_no_secret(client, settings):
    body = client.get("/healthz").content.decode()
    assert settings.DATABASES["default"]["NAME"] not in body
    assert "redis://" not in body


def test_stalled_worker_makes_health_503(client, settings):
    outbox_deliver.enqueue("message", "00000000-0000-0000-0000-000000000000")
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(seconds=settings.TASKS_STALL_SECONDS + 5))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["tasks"] == {"status": "error", "error": "TaskWorkerStalled"}


def test_fresh_ready_task_is_not_a_stall(client):
    outbox_deliver.enqueue("message", "00000000-0000-0000-0000-000000000000")
    body = client.get("/healthz").json()
    assert body["checks"]["tasks"]["ready"] == 1


def test_unreachable_channel_layer_makes_health_503(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        response = client.get("/healthz")
    finally:
        channel_layers.backends.clear()
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"]["status"] == "error"
    assert response.json()["checks"]["database"]["status"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_the_periodic_runner_clears_expired_sessions_once_per_interval():
    from helpline.models import HashedSession
    from helpline.session_store import SessionStore

    store = SessionStore()
    store.create()
    HashedSession.objects.update(expire_date=timezone.now() - timedelta(minutes=1))
    assert "sessions.clear_expired" in periodic_run_due()
    assert not HashedSession.objects.exists()
    assert "sessions.clear_expired" not in periodic_run_due()  # not due again for an hour
