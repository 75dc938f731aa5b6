"""DynamoDB's billing rules as bench.capacity applies them, checked against the figures AWS documents
(Developer Guide: "DynamoDB item sizes and formats", "DynamoDB read and write operations", "Global secondary
indexes: provisioned throughput considerations", "Amazon DynamoDB Transactions: How it works"). Pure: no AWS."""

from __future__ import annotations

import pytest

from bench import capacity as c

KB = 1024


def s(text: str) -> dict:
    return {"S": text}


def n(text: str) -> dict:
    return {"N": text}


def padded(size: int, **attributes: dict) -> dict:
    """An item of exactly `size` bytes: `attributes` plus a string `pad` filling the rest."""
    item = dict(attributes)
    rest = size - c.item_size(item) - len("pad")
    assert rest >= 0
    item["pad"] = s("x" * rest)
    assert c.item_size(item) == size
    return item


# --- item sizes -----------------------------------------------------------------------------------


def test_string_is_name_plus_utf8_bytes():
    assert c.item_size({"name": s("abc")}) == 4 + 3
    assert c.item_size({"é": s("€")}) == 2 + 3  # UTF-8 bytes, not characters


def test_number_is_one_byte_per_two_significant_digits_plus_one():
    assert c.number_size("7") == 2
    assert c.number_size("12") == 2
    assert c.number_size("123") == 3
    assert c.number_size("-1234.5") == 4
    assert c.number_size("1000") == 2  # trailing zeroes trimmed
    assert c.number_size("0.0012") == 2  # leading zeroes trimmed
    assert c.item_size({"n": n("123")}) == 1 + 3


def test_binary_is_raw_bytes_boolean_and_null_one_byte():
    assert c.item_size({"b": {"B": b"\x00\x01\x02"}}) == 1 + 3
    assert c.item_size({"ok": {"BOOL": True}, "no": {"NULL": True}}) == 3 + 3


def test_list_and_map_have_three_bytes_plus_one_per_element():
    assert c.item_size({"l": {"L": []}}) == 1 + 3
    assert c.item_size({"l": {"L": [s("ab"), n("1")]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert c.item_size({"m": {"M": {"k": s("ab")}}}) == 1 + 3 + (1 + 1 + 2)


def test_an_item_sums_names_and_values():
    item = {
        "itemType": s("SLOT"),
        "id": s("abc1231"),
        "hostName": s("Harry Mason"),
        "timeSlot": s("February 23, 1999"),
        "slotStatus": s("OPEN"),
        "createdAt": s("February 1, 1999"),
        "updatedAt": s("February 1, 1999"),
        "expiresAt": n("2099"),
    }
    assert c.item_size(item) == 141


def test_unknown_type_is_an_error_not_zero():
    with pytest.raises(ValueError):
        c.item_size({"x": {"Z": "?"}})


# --- table writes --------------------------------------------------------------------------------

PLAIN = c.TableSpec(("pk",))


def test_a_write_costs_one_unit_per_started_kb_of_the_larger_item():
    assert c.write_units(PLAIN, None, padded(500, pk=s("a"))) == {"table": 1}  # 500 B: same as 1 KB
    assert c.write_units(PLAIN, None, padded(KB, pk=s("a"))) == {"table": 1}
    assert c.write_units(PLAIN, None, padded(KB + 1, pk=s("a"))) == {"table": 2}
    # shrinking a 2.5 KB item to 0.5 KB costs what the 2.5 KB item does
    assert c.write_units(PLAIN, padded(2560, pk=s("a")), padded(512, pk=s("a"))) == {"table": 3}
    assert c.write_units(PLAIN, padded(2560, pk=s("a")), None) == {"table": 3}  # a delete


def test_a_transactional_write_costs_double():
    assert c.write_units(PLAIN, None, padded(1500, pk=s("a")), transactional=True) == {"table": 4}


def test_a_failed_condition_still_costs_the_table_but_no_index():
    table = c.TableSpec(("pk",), (c.IndexSpec("byX", ("x",)),))
    old = padded(300, pk=s("a"), x=s("1"))
    asked = padded(1500, pk=s("a"), x=s("2"))
    assert c.write_units(table, old, asked, applied=False) == {"table": 2}
    assert c.write_units(table, None, None, applied=False) == {"table": 1}  # nothing there, nothing asked: minimum


# --- index writes --------------------------------------------------------------------------------

SESSIONS = c.TableSpec(
    ("sessionId",),
    (
        c.IndexSpec("byStatus", ("statusKey", "sessionId")),
        c.IndexSpec("byOwner", ("ownerKey", "sessionId")),
    ),
)


def session(status: str, size: int = 400, **more: dict) -> dict:
    return padded(size, sessionId=s("s1"), statusKey=s(f"t1#{status}"), ownerKey=s("t1#u1"), **more)


def test_a_new_item_puts_an_entry_into_every_index_that_has_its_keys():
    assert c.write_units(SESSIONS, None, session("ready")) == {"table": 1, "byStatus": 1, "byOwner": 1}


def test_an_index_without_the_item_s_key_attribute_costs_nothing():
    item = padded(300, sessionId=s("s1"), statusKey=s("t1#ready"))
    assert c.write_units(SESSIONS, None, item) == {"table": 1, "byStatus": 1}


def test_a_key_change_is_a_delete_plus_a_put_in_that_index():
    priced = c.write_units(SESSIONS, session("loading"), session("ready"))
    assert priced["byStatus"] == 2
    assert priced["byOwner"] == 1  # ALL projection: its entry's non-key attributes changed


def test_a_key_change_prices_the_old_and_the_new_entry_each():
    priced = c.write_units(SESSIONS, session("loading", size=1500), session("ready", size=300))
    assert priced == {"table": 2, "byStatus": 2 + 1, "byOwner": 2}


def test_an_unchanged_entry_costs_nothing():
    before = session("ready", note=s("a"))
    assert c.write_units(SESSIONS, before, dict(before)) == {"table": 1}


def test_an_entry_that_disappears_is_one_write():
    before = session("ready")
    after = {k: v for k, v in before.items() if k != "ownerKey"}
    assert c.write_units(SESSIONS, before, after) == {"table": 1, "byStatus": 1, "byOwner": 1}


def test_keys_only_and_include_projections_change_only_with_what_they_hold():
    table = c.TableSpec(
        ("sessionId",),
        (
            c.IndexSpec("keys", ("statusKey",), "KEYS_ONLY"),
            c.IndexSpec("some", ("statusKey",), "INCLUDE", ("label",)),
        ),
    )
    before = padded(3000, sessionId=s("s1"), statusKey=s("ready"), label=s("a"), progress=n("10"))
    progress = {**before, "progress": n("20")}
    assert c.write_units(table, before, progress) == {"table": 3}  # neither entry holds `progress`
    relabelled = {**before, "label": s("b")}
    assert c.write_units(table, before, relabelled) == {"table": 3, "some": 1}
    assert c.index_entry(before, table, table.indexes[0]) == {"sessionId": s("s1"), "statusKey": s("ready")}


def test_the_storage_overhead_of_an_index_entry_is_added_only_when_asked():
    table = c.TableSpec(("pk",), (c.IndexSpec("byX", ("x",)),))
    item = padded(1000, pk=s("a"), x=s("1"))
    assert c.write_units(table, None, item)["byX"] == 1
    assert c.write_units(table, None, item, entry_overhead=100)["byX"] == 2


def test_table_spec_from_describe_table():
    described = {
        "KeySchema": [{"AttributeName": "sk", "KeyType": "RANGE"}, {"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "g",
                "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["y"]},
            }
        ],
    }
    assert c.TableSpec.from_description(described) == c.TableSpec(
        ("pk", "sk"), (c.IndexSpec("g", ("x",), "INCLUDE", ("y",)),)
    )


# --- reads ---------------------------------------------------------------------------------------


def test_reads_round_each_item_up_to_4_kb():
    assert c.item_read_units(3500, consistent=True) == 1  # 3,500 bytes reads as 4 KB
    assert c.item_read_units(10 * KB, consistent=True) == 3  # 10 KB reads as 12 KB
    assert c.item_read_units(8 * KB, consistent=True) == 2
    assert c.item_read_units(8 * KB, consistent=False) == 1
    assert c.item_read_units(8 * KB, consistent=True, transactional=True) == 4
    assert c.item_read_units(0, consistent=False) == 0.5  # a missing item costs the minimum


def test_a_query_rounds_the_total_once_and_a_batch_get_each_item():
    assert c.query_read_units([int(40.8 * KB)], consistent=True) == 11  # 40.8 KB -> 44 KB
    assert c.query_read_units([1536, 6656], consistent=True) == 2  # 8 KB as one read
    batch = sum(c.item_read_units(size, consistent=True) for size in (1536, 6656))
    assert batch == 3  # 4 KB + 8 KB
