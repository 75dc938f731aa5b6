"""Each function runs with exactly its own environment (hub.platform.settings), locally as in the cloud."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.platform import catalog, settings
from local.runtime import Invoker, function_environment

ROOT = Path(__file__).resolve().parents[2]


def seen_by_each_function(invoker_environment=function_environment) -> dict[str, dict[str, str]]:
    """What settings.environ() shows each catalog function's handler, invoked by the local Invoker."""
    seen: dict[str, dict[str, str]] = {}

    def resolve(name: str):
        def handler(event, context):
            seen[name] = dict(settings.environ())

        return handler

    invoker = Invoker(resolve, environment=invoker_environment)
    for function in catalog.FUNCTIONS:
        invoker.invoke(function.name, {})
    return seen


def test_a_handler_sees_only_its_declared_variables(aws):
    seen = seen_by_each_function()
    for function in catalog.FUNCTIONS:
        common = settings.common_settings(seen[function.name])
        declared = settings.function_env_names(function, common, local=True)
        # No API Gateway here: the tenant manager's REST API and usage plans, and the WebSocket API's URLs (set
        # only where the local hub runs its WebSocket API), are the only ones unset.
        unset = {"REST_API_ID", "USAGE_PLAN_IDS", "CONNECT_WEBSOCKET_URL", "CONNECTIONS_API_ENDPOINT"}
        assert declared - unset <= set(seen[function.name]) <= declared, function.name
        assert seen[function.name][settings.HUB_FUNCTION] == function.name
    assert "DELIVERY_QUEUE_URL" not in seen["receiver"] and "DELIVERIES_TABLE" not in seen["receiver"]
    assert "ADMIN_API_KEY" in seen["admin"] and "ADMIN_API_KEY" not in seen["sessions"]
    assert seen["dispatcher"]["DELIVERY_QUEUE_URL"].endswith("/wa-hub-delivery")


def test_a_resource_the_function_was_not_given_fails_naming_its_variable(aws):
    def resolve(name: str):
        def handler(event, context):
            return settings.env(catalog.DELIVERY_QUEUE.env_var)

        return handler

    with pytest.raises(settings.MissingSetting, match="DELIVERY_QUEUE_URL"):
        Invoker(resolve).invoke("receiver", {})
    assert Invoker(resolve).invoke("dispatcher", {}).endswith("/wa-hub-delivery")


def test_parsed_settings_never_leak_from_one_function_to_another():
    attempts = {"receiver": "1", "webhooks": "7"}

    def environment(function: catalog.Function) -> dict[str, str]:
        return {**function_environment(function), "WEBHOOK_RETRY_ATTEMPTS": attempts.get(function.name, "3")}

    loaded: dict[str, int] = {}

    def resolve(name: str):
        def handler(event, context):
            loaded[name] = settings.load().retry_attempts

        return handler

    invoker = Invoker(resolve, environment=environment)
    for name in ("receiver", "webhooks", "receiver"):
        invoker.invoke(name, {})
        assert loaded[name] == int(attempts[name])


def cloud_environment(function: catalog.Function) -> dict[str, str]:
    """What the stack gives `function`, with placeholder values."""
    common = settings.common_settings({})
    return (
        {name: f"value-of-{name}" for name in settings.function_env_names(function, common)}
        | common
        | {settings.HUB_FUNCTION: function.name}
    )


@pytest.mark.parametrize("function", catalog.FUNCTIONS, ids=lambda f: f.name)
def test_in_the_cloud_a_missing_resource_variable_fails_the_init_naming_it(function):
    full = cloud_environment(function)
    with settings.function_environment(full):
        settings.check_environment()
    for resource in settings.resources(function):
        with (
            settings.function_environment({k: v for k, v in full.items() if k != resource.env_var}),
            pytest.raises(settings.MissingSetting, match=resource.env_var),
        ):
            settings.check_environment()
    with (
        settings.function_environment({k: v for k, v in full.items() if k != settings.HUB_FUNCTION}),
        pytest.raises(settings.MissingSetting, match=settings.HUB_FUNCTION),
    ):
        settings.check_environment()


def test_locally_the_init_check_is_left_to_the_local_hub():
    with settings.function_environment({"HUB_LOCAL": "true"}):
        settings.check_environment()


def test_a_table_variable_has_no_fallback_name():
    with settings.function_environment({}), pytest.raises(settings.MissingSetting, match="SESSIONS_TABLE"):
        settings.table_name(catalog.SESSIONS)


def test_a_cold_start_without_its_table_variable_fails_with_its_name():
    """A real import of the webhooks handler as Lambda's init runs it, without SESSIONS_TABLE."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'layers' / 'hub' / 'python'}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        **{k: v for k, v in cloud_environment(catalog.function("webhooks")).items() if k != "SESSIONS_TABLE"},
    }
    done = subprocess.run(
        [sys.executable, "-c", "import functions.webhooks.handler"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "MissingSetting: webhooks: SESSIONS_TABLE not set" in done.stderr
