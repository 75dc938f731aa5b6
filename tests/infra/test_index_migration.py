"""The steps of an index migration (docs/migration.md): which indexes each deploy gives a table."""

from __future__ import annotations

import pytest

from hub.platform import catalog
from infra import config
from infra.constructs.tables import indexes


def _load(**ctx):
    return config.load(ctx.get)


def test_by_default_the_tables_have_the_declared_indexes_only():
    cfg = _load()
    for spec in catalog.TABLES:
        assert indexes(spec, cfg.keep_replaced_indexes, cfg.defer_indexes) == list(spec.indexes)


def test_a_migration_step_keeps_replaced_and_retired_indexes_with_all_projection_and_defers_new_ones():
    cfg = _load(
        keepReplacedIndexes="Sessions.byTenant,Sessions.byOwner,Sessions.byStatus",
        deferIndexes=["Sessions.byTenantList"],
    )
    got = {i.name: i for i in indexes(catalog.SESSIONS, cfg.keep_replaced_indexes, cfg.defer_indexes)}
    assert set(got) == {"byOwnerKeys", "byTenant", "byOwner", "byStatus"}
    assert got["byTenant"].projection == got["byStatus"].projection == "ALL"
    assert got["byOwner"].partition_key == catalog.SESSIONS_BY_OWNER.partition_key
    assert got["byStatus"].partition_key == catalog.Key("statusKey")  # a retired index keeps its own keys
    assert got["byOwnerKeys"].projection == "KEYS_ONLY"
    assert indexes(catalog.DELIVERIES, cfg.keep_replaced_indexes, cfg.defer_indexes) == list(catalog.DELIVERIES.indexes)


@pytest.mark.parametrize(
    "ctx",
    [
        {"keepReplacedIndexes": "Sessions.byOwnerKeys"},  # not a replaced index
        {"keepReplacedIndexes": "Deliveries.byInstance"},  # the Deliveries table is new: nothing to keep
        {"deferIndexes": "Sessions.byTenant", "keepReplacedIndexes": "Sessions.byTenant"},  # not a declared index
        {"deferIndexes": "Nowhere.byOwnerKeys"},
    ],
)
def test_unknown_index_names_are_refused(ctx):
    with pytest.raises(config.ConfigError, match="no such index"):
        _load(**ctx)


@pytest.mark.parametrize(
    "ctx",
    [
        {"deferIndexes": "Sessions.byOwnerKeys", "keepReplacedIndexes": "Sessions.byTenant"},
        {"deferIndexes": "Sessions.byTenantList", "keepReplacedIndexes": "Sessions.byOwner"},  # its fallback
    ],
)
def test_an_index_is_deferred_only_while_the_one_it_replaces_or_falls_back_to_is_kept(ctx):
    with pytest.raises(config.ConfigError, match="must be in 'keepReplacedIndexes'"):
        _load(**ctx)


def test_every_replacing_index_has_a_new_name():
    """CloudFormation cannot change a projection in place: a replacing index must not reuse a name."""
    for spec in catalog.TABLES:
        names = {i.name for i in spec.indexes}
        assert all(i.replaces not in names for i in spec.indexes if i.replaces)
