"""Headers a browser sees on every page."""

import pytest

pytestmark = pytest.mark.django_db


def test_login_page_has_strict_csp_and_no_outside_assets(client):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self' 'nonce-" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    body = response.content.decode()
    assert "http://" not in body.replace("http://testserver", "") and "https://" not in body
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_every_script_tag_carries_the_nonce(client):
    response = client.get("/login/")
    body = response.content.decode()
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    scripts = body.count("<script")
    assert scripts >= 1
    assert body.count(f'nonce="{nonce}"') == scripts


def test_static_assets_are_served_by_the_app(client):
    response = client.get("/static/helpline/app.css")
    assert response.status_code == 200
    assert b"--accent" in b"".join(response.streaming_content)


def test_pages_are_built_for_phones_and_screen_readers(client):
    body = client.get("/login/").content.decode()
    assert 'name="viewport"' in body
    assert 'class="skip-link"' in body
    assert '<label for="id_username">' in body and '<label for="id_password">' in body
    assert '<html lang="en"' in body
