from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """Models that exist only for the suite (for example a record protected by the vault)."""

    name = "tests.testapp"
    label = "testapp"
