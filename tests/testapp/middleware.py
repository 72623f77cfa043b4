"""Test-only middleware for the browser tests' server process (tests.settings)."""

from django.contrib.contenttypes.models import ContentType


def forget_flushed_rows(get_response):
    """Transactional tests empty the database between tests, and content types come back with new ids.

    The server is a separate process that would keep the old ids cached (the admin's
    history then fails on a foreign key), so it forgets them before every request.
    """

    def middleware(request):
        ContentType.objects.clear_cache()
        return get_response(request)

    return middleware
