"""The fake HTTP server harness does what integration tests rely on, over a real socket."""

import pytest
import requests

from tests.fakes.http import Reply


def test_scripted_answers_in_order_then_the_last_one_sticks(fake_http):
    server = fake_http()
    server.route("POST", "/hooks/", Reply(503), Reply(202, json={"ok": True}))

    statuses = [requests.post(server.url + "/hooks/", json={"n": n}, timeout=5).status_code for n in range(3)]

    assert statuses == [503, 202, 202]
    assert [request.json() for request in server.requests_to("POST", "/hooks/")] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_fail_first_puts_failures_before_what_the_route_answers(fake_http):
    server = fake_http()
    server.route("PUT", "/reports/{report}", Reply(201), then=Reply(409))
    server.fail_first(2, "PUT", "/reports/{report}")

    statuses = [requests.put(f"{server.url}/reports/R{n}", data=b"x", timeout=5).status_code for n in range(5)]

    assert statuses == [503, 503, 201, 409, 409]
    assert [request.params["report"] for request in server.requests] == ["R0", "R1", "R2", "R3", "R4"]


def test_requests_are_recorded_with_headers_body_form_and_credentials(fake_http):
    server = fake_http()
    server.route("POST", "/upload", Reply(200, "fine"))

    response = requests.post(
        server.url + "/upload?draft=1",
        data={"To": "+15550000000", "Body": "é"},
        headers={"X-Signature": "abc"},
        auth=("AC123", "secret"),
        timeout=5,
    )

    assert response.text == "fine"
    [request] = server.requests
    assert request.method == "POST" and request.path == "/upload" and request.query == {"draft": ["1"]}
    assert request.headers["x-signature"] == "abc"  # header names are case-insensitive
    assert request.form == {"To": "+15550000000", "Body": "é"}
    assert request.basic_auth == ("AC123", "secret")


def test_a_callable_answer_sees_the_request(fake_http):
    server = fake_http()
    server.route("GET", "/cases/{case}/", lambda request: Reply(json={"id": request.params["case"]}))
    assert requests.get(server.url + "/cases/C-7/", timeout=5).json() == {"id": "C-7"}


def test_chunked_bodies_are_read_whole(fake_http):
    server = fake_http()
    server.route("POST", "/stream", Reply(204))
    requests.post(server.url + "/stream", data=iter([b"<report>", b"...", b"</report>"]), timeout=5)
    assert server.requests[0].body == b"<report>...</report>"


def test_a_dropped_connection_is_a_network_error_for_the_client(fake_http):
    server = fake_http()
    server.route("POST", "/gone", Reply(drop=True), Reply(200))
    with pytest.raises(requests.ConnectionError):
        requests.post(server.url + "/gone", data=b"x", timeout=5)
    assert requests.post(server.url + "/gone", data=b"x", timeout=5).status_code == 200
    assert len(server.requests) == 2


def test_a_delayed_answer_makes_a_short_timeout_expire(fake_http):
    server = fake_http()
    server.route("GET", "/slow", Reply(delay=2))
    with pytest.raises(requests.Timeout):
        requests.get(server.url + "/slow", timeout=0.2)
    assert len(server.requests) == 1


def test_unrouted_requests_are_not_found_and_still_recorded(fake_http):
    server = fake_http()
    assert requests.delete(server.url + "/nobody", timeout=5).status_code == 404
    assert [(request.method, request.path) for request in server.requests] == [("DELETE", "/nobody")]


def test_each_server_has_its_own_port_on_loopback(fake_http):
    first, second = fake_http(), fake_http()
    assert first.url != second.url
    assert first.url.startswith("http://127.0.0.1:") and second.url.startswith("http://127.0.0.1:")
