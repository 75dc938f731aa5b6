"""pytest plugin: the IAM audit of `make test` (registered by tests/conftest.py).

Every AWS request a function makes while the local Invoker runs it is recorded; when the session
ends, the stack is synthesized and each request is checked against its function's role. A request
the role would refuse fails the run, listed under "IAM audit" with the function, the action, the
resource and the first test that made it. Disable with `-p no:tests.iam.plugin`.
"""

from __future__ import annotations

import time

import pytest

from tests.iam import audit
from tests.iam import requests as recorded

recorded.install()

_outcome: dict[str, object] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    recorded.current_test = item.nodeid


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    requests = dict(recorded.SESSION.requests)
    if not requests:
        return
    started = time.monotonic()
    try:
        denied = audit.audit(requests)
    except Exception as error:  # an audit that cannot run must not pass silently
        _outcome.update(error=f"{type(error).__name__}: {error}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    _outcome.update(
        checked=len(requests),
        functions=len({r.function for r in requests}),
        lines=audit.report(denied, requests),
        seconds=time.monotonic() - started,
    )
    if denied:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if not _outcome:
        return
    if "error" in _outcome:
        terminalreporter.section("IAM audit", red=True)
        terminalreporter.write_line(f"could not run: {_outcome['error']}", red=True)
        return
    lines = _outcome["lines"]
    terminalreporter.section("IAM audit", red=bool(lines), green=not lines)
    if lines:
        terminalreporter.write_line(f"{len(lines)} request(s) the function's role would refuse:", red=True)
        for line in lines:
            terminalreporter.write_line(f"  {line}", red=True)
    terminalreporter.write_line(
        f"{_outcome['checked']} distinct authorizations of {_outcome['functions']} functions checked against "
        f"their synthesized roles in {_outcome['seconds']:.0f} s"
    )
