from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from helpline.access import public
from helpline.health import health_report


@public
@never_cache
def healthz(request):
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
