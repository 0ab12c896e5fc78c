"""The fault suite borrows the end-to-end suite's fresh-vhost fixture."""

from tests.e2e.conftest import vhost_uri  # noqa: F401 - a fixture, used by test_poison
