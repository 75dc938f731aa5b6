from tests.delivery.conftest import clock, subscriber, worker  # noqa: F401  (shared fixtures)
