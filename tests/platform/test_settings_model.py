"""hub.platform.settings: the one settings model (defaults, bounds, parsing) and what it derives."""

import pydantic
import pytest

from hub.platform import settings


def load(**variables: str) -> settings.Settings:
    with settings.function_environment(variables):
        return settings.load()


def test_defaults_come_from_the_model():
    loaded = load()
    assert loaded.retry_attempts == 3 and loaded.timeout_ms == 10000 and loaded.local is False
    assert {s.env_var: s.default for s in settings.SETTINGS}["HUB_LOCAL"] == "false"


@pytest.mark.parametrize(
    "variable,value,field,expected",
    [
        ("WEBHOOK_RETRY_ATTEMPTS", "99", "retry_attempts", 10),
        ("WEBHOOK_RETRY_ATTEMPTS", "-1", "retry_attempts", 0),
        ("WEBHOOK_TIMEOUT_MS", "5", "timeout_ms", 100),
        ("MAX_JSON_DEPTH", "100000", "max_json_depth", 512),
        ("GATEWAY_RATE_WINDOW_SECONDS", "0", "gateway_rate_window_seconds", 1),
        ("CONNECT_LINK_MAX_TTL_S", "10", "connect_link_max_ttl_s", 60),
    ],
)
def test_out_of_bounds_values_are_clamped(variable, value, field, expected):
    assert getattr(load(**{variable: value}), field) == expected


def test_link_ttl_is_clamped_to_the_max_ttl():
    loaded = load(CONNECT_LINK_MAX_TTL_S="600", CONNECT_LINK_TTL_S="900")
    assert (loaded.connect_link_max_ttl_s, loaded.connect_link_ttl_s) == (600, 600)


def test_a_value_that_is_no_integer_fails_naming_its_variable():
    with pytest.raises(pydantic.ValidationError, match="WEBHOOK_TIMEOUT_MS"):
        load(WEBHOOK_TIMEOUT_MS="soon")


@pytest.mark.parametrize("value,expected", [("true", True), ("TRUE", True), ("yes", False), ("", False)])
def test_hub_local_is_true_only_when_it_says_true(value, expected):
    assert load(HUB_LOCAL=value).local is expected


def test_every_field_names_its_variable_once_and_says_what_it_is():
    aliases = [f.alias for f in settings.Settings.model_fields.values()]
    assert all(aliases) and len(set(aliases)) == len(aliases)
    assert all(f.description for f in settings.Settings.model_fields.values())
    assert len({s.env_var for s in settings.SETTINGS}) == len(settings.SETTINGS)


def test_bounds_are_read_off_the_model():
    declared = {s.env_var: s.bounds for s in settings.SETTINGS}
    assert declared["MAX_JSON_DEPTH"] == settings.Bounds(2, 512)
    assert declared["WEBHOOK_RETRY_ATTEMPTS"] == settings.Bounds(0, 10)
