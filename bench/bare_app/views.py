"""A webhook with nothing in it: parse the form, insert one row, answer empty TwiML."""

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from helpline.access import public

TABLE = "bench_bare_inbound"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    sid varchar(64) NOT NULL UNIQUE,
    sender text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


@public
@csrf_exempt
@require_POST
def bare_inbound(request):
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (sid, sender, body) VALUES (%s, %s, %s) ON CONFLICT (sid) DO NOTHING",  # noqa: S608
            [request.POST.get("MessageSid", ""), request.POST.get("From", ""), request.POST.get("Body", "")],
        )
    return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml; charset=utf-8")
