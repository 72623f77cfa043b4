"""The ASGI handlers enter their thread once: the whole chain and the view run in one sync call."""

import httpx
import pytest
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.test import Client

from config.asgi import application, django_asgi_app
from config.machine import MachineEndpointsHandler, OneThreadASGIHandler
from tests.conftest import login_verified

pytestmark = pytest.mark.django_db(transaction=True)


def test_both_handlers_build_their_chain_in_sync_mode_with_nothing_to_adapt():
    for handler in (django_asgi_app, MachineEndpointsHandler()):
        assert isinstance(handler, OneThreadASGIHandler)
        assert not iscoroutinefunction(handler._middleware_chain)
        # process_view methods (CSRF, 2FA) are called as they are, not through sync_to_async.
        assert not any(iscoroutinefunction(method) for method in handler._view_middleware)


async def test_a_staff_page_through_the_asgi_app_keeps_the_whole_stack(counsellor):
    cookies = (await sync_to_async(lambda: login_verified(Client(), counsellor))()).cookies
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        anonymous = await client.get("/console/")
        assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/login/")
        for name, morsel in cookies.items():
            client.cookies.set(name, morsel.value)
        page = await client.get("/console/")
    assert page.status_code == 200, page.text[:300]
    assert "content-security-policy" in page.headers and page.headers["x-frame-options"] == "DENY"


async def test_staff_requests_run_on_the_request_threads_and_give_their_connection_back(counsellor):
    from asyncio import wrap_future

    from django.db import connections

    from config.machine import request_threads

    cookies = (await sync_to_async(lambda: login_verified(Client(), counsellor))()).cookies
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for name, morsel in cookies.items():
            client.cookies.set(name, morsel.value)
        pages = [await client.get("/console/") for _ in range(3)]
    assert [page.status_code for page in pages] == [200, 200, 200]
    # request_finished ran on the thread that served the page: no connection is left checked out there.
    threads = request_threads()
    leftovers = await wrap_future(threads.submit(lambda: connections["default"].connection is not None))
    assert threads._threads and not leftovers
