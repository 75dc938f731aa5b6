"""The README documents every declared route and setting (one definition, documented once)."""

from pathlib import Path

import pytest

from hub import catalog, settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("route", catalog.ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_is_in_the_routes_table(route):
    assert f"| {route.method} | {route.path} |" in README


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.env_var)
def test_every_setting_is_documented(setting):
    assert f"`{setting.env_var}`" in README
