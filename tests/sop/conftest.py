"""The cases app's world (a published taxonomy, the demo line's regions, a wrap-up) for dry runs against real cases."""

from tests.cases.conftest import regions, taxonomy, wrapup  # noqa: F401 - fixtures
