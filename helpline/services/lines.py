"""Write paths for the lines the organisation runs."""

from django.db import transaction

from helpline.models import Helpline


@transaction.atomic
def helpline_ensure(*, slug: str, name: str, languages: list[str], out_of_hours_message: str = "") -> Helpline:
    """Create the line if missing; leave an existing line's configuration as it is."""
    line, _created = Helpline.objects.get_or_create(
        slug=slug, defaults={"name": name, "languages": languages, "out_of_hours_message": out_of_hours_message}
    )
    return line
