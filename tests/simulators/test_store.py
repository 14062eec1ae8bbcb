"""The simulators' record store: the indexes a read uses stay equal to a scan of the rows after any writes."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.store import Database, Table

# (key, group) puts and deletes, in any order
writes = st.lists(st.tuples(st.sampled_from(["put", "delete"]), st.integers(1, 12), st.sampled_from("abc")),
                  max_size=40)


def _scan(table: Table, field: str) -> dict[object, dict[str, dict[str, object]]]:
    groups: dict[object, dict[str, dict[str, object]]] = {}
    for row in table.all():
        groups.setdefault(row.get(field), {})[str(row["Key"])] = row
    return groups


@settings(max_examples=200, deadline=None)
@given(before=writes, after=writes)
def test_where_and_max_int_key_follow_every_write(before: list[tuple[str, int, str]],
                                               after: list[tuple[str, int, str]]) -> None:
    table = Database().table("Rows", "Key")
    highest = 0
    for phase in (before, after):  # the index is built between the two, then kept current by the writes after
        for op, key, group in phase:
            if op == "put":
                table.put({"Key": key, "Group": group})
                highest = max(highest, key)
            else:
                table.delete(key)
        scan = _scan(table, "Group")
        assert ({g: sorted(table.where("Group", g), key=str) for g in "abc"}
                == {g: sorted(scan.get(g, {}).values(), key=str) for g in "abc"})
        assert table.max_int_key() == highest  # a deleted key is not given out again


def test_a_row_written_again_with_the_same_value_keeps_its_place() -> None:
    table = Database().table("Rows", "Key")
    for key in (2, 1, 2):
        table.put({"Key": key, "Group": "a"})
    assert [r["Key"] for r in table.where("Group", "a")] == [r["Key"] for r in table.all()] == [2, 1]


def test_a_store_on_a_file_keeps_its_rows_and_one_in_memory_writes_no_sql(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Database(path).table("Rows", "Key").put({"Key": 1, "Group": "a"})
    assert Database(path).table("Rows", "Key").get(1) == {"Key": 1, "Group": "a"}
    memory = Database()
    memory.table("Rows", "Key").put({"Key": 1})
    assert memory.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_a_write_an_index_cannot_hold_changes_nothing() -> None:
    table = Database().table("Rows", "Key")
    table.put({"Key": 1, "Group": "a"})
    table.where("Group", "a")  # builds the index
    version = table.version
    try:
        table.put({"Key": 1, "Group": ["a", "b"]})
    except TypeError as exc:
        assert "'Group' is indexed" in str(exc)
    else:
        raise AssertionError("an unhashable indexed value was stored")
    assert table.get(1) == {"Key": 1, "Group": "a"} and table.version == version
    assert table.where("Group", "a") == [{"Key": 1, "Group": "a"}]
