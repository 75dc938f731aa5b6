from tests.delivery.conftest import subscriber, worker  # noqa: F401  (shared fixtures)
