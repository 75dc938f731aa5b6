"""infra/config.py: context defaults and overrides (no synth)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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


@pytest.mark.parametrize(
    "ctx,named",
    [
        ({"logRetentionDays": 31}, "context 'logRetentionDays': must be one of"),
        ({"logRetentionDays": "a month"}, "context 'logRetentionDays': Input should be a valid integer"),
        ({"api5xxThreshold": "many"}, "context 'api5xxThreshold'"),
        ({"plans": {"default": {"rateLimit": 1}}}, "context 'plans.default.burstLimit': Field required"),
        ({"plans": '{"default": '}, "context 'plans'"),
        ({"stage": "no spaces"}, "context 'stage'"),
        ({"removalPolicy": "snapshot"}, "context 'removalPolicy'"),
        ({"reserveConcurrency": "maybe"}, "context 'reserveConcurrency'"),
        ({"settings": {"NOT_A_SETTING": "x"}}, "context 'settings': unknown setting 'NOT_A_SETTING'"),
        ({"deliveryFailureRatePercent": 150}, "context 'deliveryFailureRatePercent'"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(ctx, named):
    with pytest.raises(config.ConfigError) as refused:
        load(**ctx)
    assert named in str(refused.value)


def test_every_context_key_is_a_field_with_a_default():
    """The model is the one list of context keys: each has its default, so an empty context synthesizes."""
    assert set(config.CONTEXT_KEYS) >= {"stage", "plans", "settings", "logRetentionDays", "deferIndexes"}
    assert all(not f.is_required() for f in config.HubConfig.model_fields.values())


def test_a_bad_context_value_fails_the_synth_with_a_clear_message(tmp_path):
    """`cdk synth -c logRetentionDays=31` (the CLI passes context in CDK_CONTEXT_JSON): app.py exits non-zero
    with one line naming the key, no traceback, and writes no template."""
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"logRetentionDays": "31"}), "CDK_OUTDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(config.REPO_ROOT / "app.py")], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode != 0
    assert "app.py: bad CDK context: context 'logRetentionDays': must be one of" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("*.template.json"))
