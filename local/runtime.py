"""Plays the Lambda runtime for the local hub: loads a function's handler once, then invokes it."""

from __future__ import annotations

import contextvars
import importlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.platform import catalog, settings
from local import logs

log = logging.getLogger("local")

Handler = Callable[[dict[str, Any], Any], Any]
Resolver = Callable[[str], Handler]
"""Function name -> its `handler(event, context)`; injectable so tests can run throwaway handlers."""

ACCOUNT_ID = "123456789012"  # moto's default account

Environment = Callable[[catalog.Function], Mapping[str, str]]
"""Function -> the environment it runs with."""

invoking: contextvars.ContextVar[str | None] = contextvars.ContextVar("invoking", default=None)
"""The function whose invocation (or init) is running in this context; None outside any."""


def function_environment(function: catalog.Function) -> dict[str, str]:
    """The environment the stack gives `function` (hub.platform.settings), with local values.

    The process environment plays the deployment's part: settings overrides (CDK context in the
    cloud) and the local resources' names (local.resources exports them). The function gets only
    its declared variables; on the local hub (HUB_LOCAL) ADMIN_API_KEY stands in for the secret's ARN.
    """
    common = settings.common_settings(os.environ)
    local = os.environ.get("HUB_LOCAL", "").lower() == "true"
    names = settings.function_env_names(function, common, local=local)
    variables = {name: os.environ[name] for name in names if os.environ.get(name)}
    return {**variables, **common, settings.HUB_FUNCTION: function.name}


def import_handler(function_name: str) -> Handler:
    """The real handler: `functions.<name>.handler.handler`, imported as Lambda would at cold start."""
    return importlib.import_module(catalog.function(function_name).module).handler


def function_arn(function_name: str, region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:wa-hub-{function_name}"


@dataclass
class FakeLambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    region: str = "us-east-1"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        return function_arn(self.function_name, self.region)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/wa-hub-{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Invoking(Protocol):
    """What an event source mapping invokes functions through (an Invoker, or a wrapper that times it)."""

    def invoke(self, function_name: str, event: dict[str, Any]) -> Any: ...


class Invoker:
    """Invokes the catalog's functions like Lambda does.

    Each function behaves as one warm execution environment: its handler is loaded on first
    use and runs one event at a time (module globals such as a Powertools resolver's current
    event assume that), while different functions run concurrently. Nothing can stop a thread,
    so a run past the function's timeout is only reported.

    Loading and every invocation run with the function's own environment (`environment`, read
    through hub.platform.settings) and with `invoking` naming the function.
    """

    def __init__(
        self,
        resolver: Resolver = import_handler,
        functions: Iterable[catalog.Function] = catalog.FUNCTIONS,
        region: str = "us-east-1",
        environment: Environment = function_environment,
    ) -> None:
        self._functions = {f.name: f for f in functions}
        self._resolver = resolver
        self._environment = environment
        self._region = region
        self._handlers: dict[str, Handler] = {}
        self._locks = {name: threading.Lock() for name in self._functions}
        # the handlers' Powertools logger (hub.platform.observability), named after the service; not imported here, so that
        # Powertools configures it when the first handler loads (after the local hub's own logging setup)
        logs.label_invocations(logging.getLogger(settings.env("POWERTOOLS_SERVICE_NAME")))

    def invoke(self, function_name: str, event: dict[str, Any]) -> Any:
        """Returns what the handler returns; lets its exceptions (and import errors) through."""
        function = self._functions[function_name]
        token = invoking.set(function_name)
        try:
            with self._locks[function_name], settings.function_environment(self._environment(function)):
                return self._invoke(function, event)
        finally:
            invoking.reset(token)

    def _invoke(self, function: catalog.Function, event: dict[str, Any]) -> Any:
        handler = self._handlers.get(function.name)
        cold_start = handler is None
        if handler is None:
            handler = self._handlers[function.name] = self._resolver(function.name)
        context = FakeLambdaContext(function.name, function.memory_mb, function.timeout_s, self._region)
        token = logs.invocation.set(
            {
                "function_name": function.name,
                "function_memory_size": function.memory_mb,
                "cold_start": cold_start,
                "function_arn": context.invoked_function_arn,
                "function_request_id": context.aws_request_id,
            }
        )
        started = time.monotonic()
        try:
            return handler(event, context)
        finally:
            logs.invocation.reset(token)
            elapsed = time.monotonic() - started
            if elapsed > function.timeout_s:
                log.warning(
                    "%s ran %.1f s, past its %d s timeout: Lambda would have stopped it",
                    function.name,
                    elapsed,
                    function.timeout_s,
                )


class PollingThread:
    """Runs `poll_once()` on a thread of its own until stopped: what every event source mapping shares.

    When a poll finds nothing it waits `idle_wait_s` (0 for a poll that waits by itself, like an SQS
    long poll); when a poll fails it logs and waits 1 s.
    """

    def __init__(self, thread_name: str, idle_wait_s: float) -> None:
        self._thread_name = thread_name
        self._idle_wait_s = idle_wait_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once() and self._idle_wait_s:
                    self._stop.wait(self._idle_wait_s)
            except Exception:
                if self._stop.is_set():
                    break
                log.exception("%s: polling failed; retrying in 1 s", self._thread_name)
                self._stop.wait(1)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Returns once the current poll and invocation are over."""
        self._stop.set()
        if self._thread:
            self._thread.join()
