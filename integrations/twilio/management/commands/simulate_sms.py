import secrets
import urllib.error
import urllib.request
from urllib.parse import urlencode, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from twilio.request_validator import RequestValidator

from helpline.models import Channel, ChannelEndpoint, Helpline
from helpline.vault.services import unseal
from integrations.twilio.demo import demo_endpoints_ensure
from integrations.twilio.gateway import LOOPBACK_HOSTS
from integrations.twilio.inbound import WHATSAPP_PREFIX
from integrations.twilio.security import public_url


class Command(BaseCommand):
    help = (
        "Send a message to a running server exactly as Twilio would: a signed POST to "
        "/integrations/twilio/messages/, from the line's first active SMS (or WhatsApp) endpoint. "
        "On the demo line, the demo endpoints (+15551230000 SMS, +15551230009 WhatsApp) are created "
        "first if the line has none. The signature covers PUBLIC_BASE_URL, which must match the server's. "
        "Only loopback servers are accepted."
    )

    def add_arguments(self, parser):
        parser.add_argument("text", help="The message body.")
        parser.add_argument("--line", default="demo", help="Slug of the line (default: demo).")
        parser.add_argument("--from", dest="sender", default="+15551230001", help="Sender's number, E.164.")
        parser.add_argument("--whatsapp", action="store_true", help="Send as WhatsApp instead of SMS.")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The running server (loopback only).")

    def handle(self, *args, text, line, sender, whatsapp, url, **options):
        server = url.rstrip("/")
        parts = urlsplit(server)
        if parts.scheme not in {"http", "https"} or parts.hostname not in LOOPBACK_HOSTS:
            raise CommandError("--url must be a loopback address such as http://127.0.0.1:8000")
        helpline = Helpline.objects.filter(slug=line).first()
        if helpline is None:
            raise CommandError(f"No line {line!r}. Run `manage.py seed_demo` for the demo line.")
        channel = Channel.WHATSAPP if whatsapp else Channel.SMS
        endpoint = self._endpoint(helpline, channel)
        token = unseal(endpoint, "provider_secret")
        if not isinstance(token, str) or not token:
            raise CommandError("That endpoint has no auth token.")

        prefix = WHATSAPP_PREFIX if whatsapp else ""
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": endpoint.provider_account,
            "From": prefix + sender,
            "To": prefix + endpoint.address,
            "Body": text,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }
        path = reverse("twilio:messages")
        # Twilio signs the public URL it was configured with, which the server checks.
        signed_for = public_url("twilio:messages")
        signature = RequestValidator(token).compute_signature(signed_for, params)
        request = urllib.request.Request(  # noqa: S310 - scheme and host checked above
            server + path,
            data=urlencode(params).encode(),
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except urllib.error.URLError as exc:
            raise CommandError(f"Could not reach {server}: {exc.reason}") from None
        self.stdout.write(f"HTTP {status}")
        if status == 403:
            self.stderr.write(
                f"The signature was refused. This command signed for {signed_for}; the server checks "
                "its own PUBLIC_BASE_URL, so both must be the same."
            )
        if status >= 400:
            raise CommandError(f"The server answered HTTP {status}.")

    def _endpoint(self, helpline, channel) -> ChannelEndpoint:
        endpoints = ChannelEndpoint.objects.select_related("data_key").filter(
            line=helpline, channel=channel, active=True
        )
        endpoint = endpoints.order_by("address").first()
        if endpoint is None and helpline.slug == "demo":
            try:
                demo_endpoints_ensure(helpline)
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from None
            endpoint = endpoints.order_by("address").first()
        if endpoint is None:
            raise CommandError(f"The line has no active {channel} endpoint.")
        return endpoint
