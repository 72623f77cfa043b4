"""staff_create for deployment scripts, and the demo data."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from helpline.models import Staff

pytestmark = pytest.mark.django_db


def run_staff_create(monkeypatch, password, *args):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    call_command("staff_create", *args, stdout=out)
    return out.getvalue()


def test_staff_create_reads_the_password_from_stdin(monkeypatch, demo_line):
    out = run_staff_create(
        monkeypatch, "a long enough passphrase", "--username", "amina", "--role", "counsellor", "--line", "demo"
    )
    assert "Created counsellor amina" in out
    assert "passphrase" not in out
    user = get_user_model().objects.get(username="amina")
    assert user.check_password("a long enough passphrase")
    assert user.staff.role == "counsellor"
    assert list(user.staff.lines.values_list("slug", flat=True)) == ["demo"]
    assert not user.is_staff  # only administrators enter the admin


def test_staff_create_admin_can_use_the_admin(monkeypatch):
    run_staff_create(monkeypatch, "a long enough passphrase", "--username", "root2", "--role", "admin")
    assert get_user_model().objects.get(username="root2").is_staff


@pytest.mark.parametrize(
    ("password", "args", "complaint"),
    [
        ("", ["--username", "x", "--role", "counsellor"], "No password"),
        ("short", ["--username", "x", "--role", "counsellor"], "too short"),
        ("a long enough passphrase", ["--username", "x", "--role", "counsellor", "--line", "nope"], "No line"),
    ],
)
def test_staff_create_explains_what_is_wrong(monkeypatch, demo_line, password, args, complaint):
    with pytest.raises(CommandError, match=complaint):
        run_staff_create(monkeypatch, password, *args)
    assert not get_user_model().objects.filter(username="x").exists()


def test_staff_create_refuses_a_duplicate(monkeypatch):
    run_staff_create(monkeypatch, "a long enough passphrase", "--username", "dup", "--role", "supervisor")
    with pytest.raises(CommandError, match="already exists"):
        run_staff_create(monkeypatch, "a long enough passphrase", "--username", "dup", "--role", "supervisor")


def test_unknown_role_is_refused(monkeypatch):
    with pytest.raises(CommandError):
        run_staff_create(monkeypatch, "a long enough passphrase", "--username", "y", "--role", "king")


def test_seed_demo_is_idempotent_and_prints_working_logins(client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    assert Staff.objects.count() == 4
    assert set(Staff.objects.values_list("role", flat=True)) == {"counsellor", "supervisor", "admin", "authority"}
    # The latest printed password and backup code log the counsellor in.
    lines = out.getvalue().splitlines()
    counsellor_line = [line for line in lines if "user counsellor" in line][-1]
    password = counsellor_line.split("password ")[1].strip()
    code_line = lines[lines.index(counsellor_line) + 1]
    code = code_line.split(": ")[1].split(",")[0].strip()
    client.post("/login/", {"username": "counsellor", "password": password})
    assert client.post("/2fa/verify/", {"token": code}).status_code == 302
    assert client.get("/console/").status_code == 200


def test_seed_demo_runs_outer_apps_extensions_once_per_seed_with_the_demo_line():
    from helpline import demo

    seen = []

    def extension(line):
        seen.append(line.slug)

    demo.demo_extension_register(extension)
    demo.demo_extension_register(extension)
    try:
        call_command("seed_demo", stdout=io.StringIO())
    finally:
        demo._demo_extensions.remove(extension)
    assert seen == [demo.DEMO_LINE]
