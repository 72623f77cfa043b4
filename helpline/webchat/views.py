"""The chat page. Public, cookie-free, and never cached or named in a referrer."""

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from helpline.access import public
from helpline.hours import line_is_open
from helpline.webchat.options import AGE_BANDS, DEFAULT_EXIT_URL, MAX_BODY_CHARS, chat_languages, language_codes
from helpline.webchat.selectors import webchat_endpoint_for


def chat_language(request: HttpRequest, line) -> str:
    """?lang= first (any language of the site, so Arabic renders right to left), then the browser's, then the line's."""
    asked = request.GET.get("lang", "")
    if asked in language_codes():
        return asked
    offered = [language["code"] for language in chat_languages(line)]
    browser = getattr(request, "LANGUAGE_CODE", "")
    return browser if browser in offered else offered[0]


@public
def chat(request: HttpRequest, line_slug: str) -> HttpResponse:
    endpoint = webchat_endpoint_for(line_slug=line_slug)
    if endpoint is None:
        raise Http404
    line = endpoint.line
    language = chat_language(request, line)
    context = {
        "line": line,
        "is_open": line_is_open(line),
        "languages": chat_languages(line),
        "age_bands": AGE_BANDS,
        "max_body": MAX_BODY_CHARS,
        "ws_path": f"/ws/chat/{line.slug}/",
        "exit_url": line.quick_exit_url or DEFAULT_EXIT_URL,
        # Rendered without the request on purpose: no context processor touches
        # the session or the user, so the page never sets or refreshes a cookie.
        "csp_nonce": request.csp_nonce,
    }
    with translation.override(language):
        html = render_to_string("helpline/webchat/chat.html", context)
    response = HttpResponse(html)
    # Nothing of the chat in the browser's cache, and the address never leaks to the exit site.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Language"] = language
    return response
