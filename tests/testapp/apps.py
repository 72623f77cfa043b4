from django.apps import AppConfig

# The actions the suite's own audit tests record, registered like any app's.
TEST_ACTIONS = (
    "test.event",
    "test.embedded",
    "test.embedded_thread",
    "test.kept",
    "test.rolled_back",
    "test.after",
    "test.reason",
    "test.details",
    "test.record",
    "test.concurrent",
    "test.committed",
    "test.uncommitted",
)


class TestAppConfig(AppConfig):
    """Models that exist only for the suite (for example a record protected by the vault)."""

    name = "tests.testapp"
    label = "testapp"

    def ready(self):
        from helpline.audit.actions import action_register

        for name in TEST_ACTIONS:
            action_register(name, f"Test event {name}")
