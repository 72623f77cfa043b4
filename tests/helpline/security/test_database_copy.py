"""Item 1: a copy of the database opens no session and no second factor; var/ is private.

The attacker has a dump of every table (or a copied SQLite file) and a browser, but not
the key set: stored session keys, TOTP seeds and backup codes must get them nowhere.
"""

import os
import stat
import subprocess
import sys
import textwrap
import time
from base64 import b32encode
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.backends.db import SessionStore as PlainSessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.private_files import var_dir_make_private
from helpline.models import BackupCode, BackupCodeDevice, HashedSession, SealedTOTPDevice
from helpline.services.twofactor import backup_codes_issue
from tests.conftest import PASSWORD, login_verified, make_staff, totp_code
from tests.helpline.console.conftest import child_writes, client_for, held_by
from tests.helpline.security.conftest import HTMX, database_dump_text

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
CHILD_WORDS = "he says he will send the photos to my school"


def test_a_session_key_copied_from_the_database_does_not_open_the_read_along(chat_endpoint, counsellor, supervisor):
    contact = held_by(counsellor, child_writes(chat_endpoint, CHILD_WORDS))
    supervisor_client = client_for(supervisor)
    page = f"/supervisor/c/{contact.pk}/"
    assert CHILD_WORDS in supervisor_client.get(page, **HTMX).content.decode()  # the real session reads along

    live_cookie = supervisor_client.cookies[settings.SESSION_COOKIE_NAME].value
    stored = list(HashedSession.objects.values_list("session_key", flat=True))
    assert stored and live_cookie not in stored
    assert live_cookie not in database_dump_text()

    for stolen in stored:
        attacker = Client()
        attacker.cookies[settings.SESSION_COOKIE_NAME] = stolen
        response = attacker.get(page, **HTMX)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert CHILD_WORDS not in response.content.decode()


def test_the_same_session_store_serves_both_modes_and_clears_expired_sessions(client, counsellor):
    assert settings.SESSION_ENGINE == "helpline.session_store"
    login_verified(client, counsellor)
    HashedSession.objects.update(expire_date=timezone.now())
    call_command("clearsessions")
    assert not HashedSession.objects.exists()
    assert client.get("/console/").status_code == 302


def test_the_console_socket_rereads_its_session_by_key(counsellor):
    """consumers._identify(fresh=True) opens the session by the cookie's key, as every request does."""
    client = login_verified(Client(), counsellor)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    assert get_user(SimpleNamespace(session=session)) == counsellor
    client.post("/logout/")
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    assert not get_user(SimpleNamespace(session=session)).is_authenticated


def test_the_authenticator_key_is_not_in_the_database(client, demo_line):
    user = make_staff("newcomer", "counsellor", line=demo_line, enrolled=False)
    client.post("/login/", {"username": "newcomer", "password": PASSWORD})
    shown = client.get("/2fa/enrol/").context["secret"].replace(" ", "")
    device = SealedTOTPDevice.objects.select_related("data_key").get(user=user)
    codes = client.post("/2fa/enrol/", {"token": totp_code(device)}).context["codes"]

    dump = database_dump_text()
    hex_key = device.bin_key.hex()
    assert b32encode(device.bin_key).decode() == shown
    for secret in (shown, shown.lower(), hex_key, hex_key.upper(), *codes):
        assert secret not in dump
    # The seed is in no column but the sealed one, and that holds an AES-GCM envelope.
    stored = SealedTOTPDevice.objects.filter(pk=device.pk).values_list("key", flat=True).get().envelope
    assert stored[0] == 1 and device.bin_key not in stored and hex_key.encode() not in stored


def test_stored_backup_code_digests_are_not_codes(client, counsellor):
    codes = backup_codes_issue(user=counsellor)
    digests = list(BackupCode.objects.filter(device__user=counsellor).values_list("digest", flat=True))
    assert len(digests) == len(codes) and not set(codes) & set(digests)
    dump = database_dump_text()
    assert not any(code in dump for code in codes)

    device = BackupCodeDevice.objects.get(user=counsellor)
    assert not any(device.verify_token(digest) for digest in digests)
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    assert client.post("/2fa/verify/", {"token": digests[0][:16]}).status_code == 200
    assert client.get("/console/").status_code == 302


def test_an_authenticator_keeps_its_drift_and_refuses_a_replayed_code(client, counsellor):
    if time.time() % 30 > 25:  # keep the login within one time step, so the drift is exactly one step
        time.sleep(30 - time.time() % 30)
    device = SealedTOTPDevice.objects.select_related("data_key").get(user=counsellor)
    ahead = totp_code(device, steps_ahead=1)  # the phone's clock runs 30 s fast
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    assert client.post("/2fa/verify/", {"token": ahead}).status_code == 302
    device.refresh_from_db()
    assert device.drift == 1

    replay = Client()
    replay.post("/login/", {"username": "counsellor", "password": PASSWORD})
    assert replay.post("/2fa/verify/", {"token": ahead}).status_code == 200  # a code works once
    assert replay.get("/console/").status_code == 302


# --- files ---------------------------------------------------------------------------------


def embedded_env(var_dir: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "HELPLINE_", "DATABASE_", "REDIS_"))
    }
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "HELPLINE_VAR_DIR": str(var_dir)})
    return env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_var_and_everything_in_it_is_private_to_the_service_user(tmp_path):
    """Another account on the machine cannot copy the SQLite file, its WAL or the keys."""
    var = tmp_path / "var"
    (var / "static" / "helpline").mkdir(parents=True)
    var.chmod(0o755)
    # What an older version, or a restore from backup, left behind: readable by everyone.
    database = var / "helpline.sqlite3"
    database.touch()  # an empty file is an empty SQLite database
    static_file = var / "static" / "helpline" / "app.css"
    static_file.write_text("body {}")
    for path in (database, static_file):
        path.chmod(0o644)
    (var / "static").chmod(0o755)

    probe = textwrap.dedent(
        """
        import os, stat
        from django.db import connection
        from helpline.vault.keys import keys_get
        cursor = connection.cursor()
        cursor.execute("CREATE TABLE probe (x int)")
        cursor.execute("INSERT INTO probe VALUES (1)")
        keys_get()
        var = os.environ["HELPLINE_VAR_DIR"]
        names = ("helpline.sqlite3", "helpline.sqlite3-wal", "helpline.sqlite3-shm", "keys.json")
        print(" ".join(f"{name}={stat.S_IMODE(os.stat(os.path.join(var, name)).st_mode):o}" for name in names))
        """
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", probe],
        cwd=ROOT,
        env=embedded_env(var),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # While the database is open, the database, its WAL and shared-memory files and the key set are 0600.
    assert result.stdout.split() == [
        "helpline.sqlite3=600",
        "helpline.sqlite3-wal=600",
        "helpline.sqlite3-shm=600",
        "keys.json=600",
    ]
    assert mode(var) == 0o700
    assert mode(var / "static") == 0o700 and mode(var / "static" / "helpline") == 0o700
    assert mode(database) == 0o600 and mode(static_file) == 0o600


def test_private_files_leave_links_alone(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours to change")
    outside.chmod(0o644)
    var = tmp_path / "var"
    var.mkdir()
    (var / "link").symlink_to(outside)
    old_umask = os.umask(0o022)
    try:
        var_dir_make_private(var)
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(old_umask)
    assert mode(outside) == 0o644 and mode(var) == 0o700


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_seals_existing_second_factors_and_ends_plain_sessions(counsellor):
    """Devices enrolled before the upgrade keep working; their plain rows and old sessions are gone."""
    before = ("helpline", "0007_security_hardening")
    upgrade = ("helpline", "0008_seal_second_factors_and_end_plain_sessions")
    MigrationExecutor(connection).migrate([before])
    SealedTOTPDevice.objects.filter(user=counsellor).delete()
    old_totp = TOTPDevice.objects.create(user=counsellor, name="authenticator", confirmed=True, drift=1)
    old_backup = StaticDevice.objects.create(user=counsellor, name="backup", confirmed=True)
    StaticToken.objects.create(device=old_backup, token="abcd2345")
    plain_session = PlainSessionStore()
    plain_session["_auth_user_id"] = str(counsellor.pk)
    plain_session.create()

    executor = MigrationExecutor(connection)
    executor.migrate([upgrade])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists() and not StaticToken.objects.exists()
    assert not Session.objects.exists()
    sealed = SealedTOTPDevice.objects.select_related("data_key").get(user=counsellor)
    assert sealed.bin_key == old_totp.bin_key and sealed.drift == 1 and sealed.confirmed
    assert old_totp.key not in database_dump_text() and "abcd2345" not in database_dump_text()

    client = Client()
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    clock = TOTP(old_totp.bin_key, drift=1)
    assert client.post("/2fa/verify/", {"token": f"{clock.token():06d}"}).status_code == 302
    client.post("/logout/")
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    assert client.post("/2fa/verify/", {"token": "ABCD 2345"}).status_code == 302
    assert not BackupCode.objects.filter(device__user=counsellor).exists()
