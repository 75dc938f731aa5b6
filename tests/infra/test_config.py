"""infra/config.py: context defaults and overrides (no synth)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import RemovalPolicy

from hub.platform import settings as hub_settings
from infra import config


def load(**ctx):
    return config.load(ctx.get)


def test_defaults():
    cfg = load()
    assert cfg.stage == "prod" and cfg.stack_name == "WaWebhookHub-prod"
    assert cfg.removal_policy == RemovalPolicy.RETAIN
    assert cfg.log_retention_days == 30
    assert cfg.lock_file.name == "requirements.lock"
    assert cfg.plan_names() == ("default", "pro")
    non_empty = {
        s.env_var: s.default for s in hub_settings.SETTINGS if s.default and s.env_var not in hub_settings.stack_owned()
    }
    assert dict(cfg.settings) == non_empty


@pytest.mark.parametrize(
    "ctx,expected",
    [
        ({"stage": "dev"}, RemovalPolicy.DESTROY),
        ({"stage": "dev-alice"}, RemovalPolicy.DESTROY),
        ({"stage": "staging"}, RemovalPolicy.RETAIN),
        ({"stage": "staging", "removalPolicy": "destroy"}, RemovalPolicy.DESTROY),
        ({"stage": "dev", "removalPolicy": "retain"}, RemovalPolicy.RETAIN),
    ],
)
def test_removal_policy(ctx, expected):
    assert load(**ctx).removal_policy == expected


def test_setting_overrides_both_ways():
    cfg = load(
        settings=json.dumps({"WEBHOOK_RETRY_ATTEMPTS": "5"}),
        WEBHOOK_RETRY_DELAY="1000",
        PUBLIC_BASE_URL="https://hooks.example.com",
    )
    assert cfg.settings["WEBHOOK_RETRY_ATTEMPTS"] == "5"
    assert cfg.settings["WEBHOOK_RETRY_DELAY"] == "1000"
    assert cfg.settings["PUBLIC_BASE_URL"] == "https://hooks.example.com"


@pytest.mark.parametrize(
    "ctx",
    [
        {"settings": {"ADMIN_API_KEY": "literal"}},
        {"settings": {"TENANTS_TABLE": "x"}},
        {"settings": {"NOT_A_SETTING": "x"}},
        {"logRetentionDays": 31},
        {"plans": {"pro": {"rateLimit": 1, "burstLimit": 1, "quotaPerMonth": 1}}},
        {"plans": {"default": {"rateLimit": 1}}},
        {"stage": "no spaces"},
        {"removalPolicy": "snapshot"},
        {"reserveConcurrency": "maybe"},
    ],
)
def test_rejected_context(ctx):
    with pytest.raises(config.ConfigError):
        load(**ctx)


@pytest.mark.parametrize(
    "ctx",
    [
        {"HUB_LOCAL": "true"},
        {"HUB_LOCAL": "TRUE", "stage": "dev"},
        {"settings": {"HUB_LOCAL": "true"}, "stage": "local"},
    ],
)
def test_hub_local_is_refused_for_any_deploy(ctx):
    with pytest.raises(config.ConfigError, match="HUB_LOCAL"):
        load(**ctx)


def test_hub_local_false_is_what_every_stack_runs_with():
    assert load(HUB_LOCAL="false", stage="dev").settings["HUB_LOCAL"] == "false"
