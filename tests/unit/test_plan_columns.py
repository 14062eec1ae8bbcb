"""The planner at scale (``plan_columns``) returns exactly the plan of the simple planner (``plan_record_type``),
on generated worlds: names that collide under ``exact_key``, flags, fetched and swept records, changes on
either side, mappings whose partner is gone, closed projects, caps, reviewed suggestions. And the database
path (columns streamed from the staged snapshot) equals the in-memory one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from include.sync.model import Record
from include.sync.plan_columns import DictLoader, mapping_frame, plan_columns, side_frame
from include.sync.planner import MappingState, Options, default_options, plan_record_type
from include.sync.record_types import CONTACT, FIRM, PROJECT
from tests.support.planner_records import BASE_NAMES, VARIANTS, firm_fields

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def columns_plan(rt: Any, mappings: list[MappingState], ajera: dict[str, Record], crm: dict[str, Record],
                 options: Options = default_options(), reviewed: dict[tuple[str, str], str] | None = None) -> Any:
    return plan_columns(rt, mapping_frame(mappings), side_frame(ajera.values()), side_frame(crm.values()),
                        DictLoader(ajera, crm, mappings), options, reviewed)


record_spec = st.tuples(
    st.sampled_from(BASE_NAMES), st.sampled_from(range(len(VARIANTS))),
    st.booleans(),  # flagged
    st.booleans(),  # fetched (full) or only swept
    st.integers(0, 3),  # modified: minutes after T0
    st.sampled_from(["", "x@example.com", "y@example.com"]),  # a synced field that can differ
    st.sampled_from(["active", "closed"]),
    st.sampled_from(["G1", "G2", None]),  # group (a contact's firm)
)


def _record(system: str, key: str, spec: tuple[Any, ...], rt: Any) -> Record:
    base, variant, flagged, full, minutes, email, status, group = spec
    name = VARIANTS[variant](base)
    fields = {**firm_fields(name, email=email, status=status), "description": name}
    fields = {k: fields.get(k) for k in rt.synced}
    return Record(system, key, name, T0 + timedelta(minutes=minutes), flagged,  # type: ignore[arg-type]
                  fields if full else {}, raw=dict(fields) if full else None,
                  content_hash=rt.synced_hash(fields) if full else None, group=group)


world = st.fixed_dictionaries({
    "ajera": st.lists(record_spec, max_size=12),
    "crm": st.lists(record_spec, max_size=12),
    # mappings: (ajera index, crm index, hash kept?, minutes of the last sync, history?); an index past the
    # end names a record that is gone
    "mappings": st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13), st.booleans(), st.integers(0, 3),
                                   st.booleans()), max_size=8),
    "reviewed": st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13),
                                   st.sampled_from(["proposed", "accepted", "rejected", "linked"])), max_size=4),
    "mode": st.sampled_from(["two_way", "one_way"]),
    "sync_closed": st.booleans(),
    "cap": st.integers(1, 3),
    "match_unsynced": st.booleans(),
})


def _build(rt: Any, w: dict[str, Any]) -> tuple[list[MappingState], dict[str, Record], dict[str, Record],
                                                 dict[tuple[str, str], str], Options]:
    ajera = {f"A{i:02d}": _record("ajera", f"A{i:02d}", s, rt) for i, s in enumerate(w["ajera"])}
    crm = {f"C{i:02d}": _record("crm", f"C{i:02d}", s, rt) for i, s in enumerate(w["crm"])}
    mappings: list[MappingState] = []
    used_a: set[str] = set()
    used_c: set[str] = set()
    for ai, ci, keep_hash, minutes, history in w["mappings"]:
        a_key, c_key = f"A{ai:02d}", f"C{ci:02d}"
        if a_key in used_a or c_key in used_c:
            continue  # a key is in one mapping at most (the table's unique keys)
        used_a.add(a_key)
        used_c.add(c_key)
        a, c = ajera.get(a_key), crm.get(c_key)
        a_hash = (a.content_hash if keep_hash else "old") if a is not None and a.content_hash else "old"
        c_hash = (c.content_hash if keep_hash else "old") if c is not None and c.content_hash else "old"
        at = T0 + timedelta(minutes=minutes)
        mappings.append(MappingState(a_key, c_key, at, at, a_hash, c_hash,
                                     dict(a.fields) if history and a is not None and a.raw else None,
                                     dict(c.fields) if history and c is not None and c.raw else None))
    mappings.sort(key=lambda m: m.ajera_key)  # the table's order (select_mappings: ORDER BY ajera_key)
    reviewed = {(f"A{a:02d}", f"C{c:02d}"): status for a, c, status in w["reviewed"]}
    options = default_options(mode=w["mode"], sync_closed=w["sync_closed"], cap=w["cap"],
                              match_unsynced=w["match_unsynced"])
    return mappings, ajera, crm, reviewed, options


@pytest.mark.parametrize("rt", [FIRM, CONTACT, PROJECT], ids=lambda rt: rt.name)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(w=world)
def test_columns_plan_equals_the_simple_plan(rt: Any, w: dict[str, Any]) -> None:
    mappings, ajera, crm, reviewed, options = _build(rt, w)
    assert columns_plan(rt, mappings, ajera, crm, options, reviewed) == \
        plan_record_type(rt, mappings, ajera, crm, options, reviewed)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(w=world)
def test_columns_plan_equals_the_simple_plan_on_a_first_sync(w: dict[str, Any]) -> None:
    _, ajera, crm, reviewed, options = _build(FIRM, {**w, "mappings": []})
    assert columns_plan(FIRM, [], ajera, crm, options, reviewed) == \
        plan_record_type(FIRM, [], ajera, crm, options, reviewed)


def test_empty_inputs() -> None:
    assert columns_plan(FIRM, [], {}, {}) == plan_record_type(FIRM, [], {}, {})


def _stage_world(db: Any, run_id: str, rt: Any, mappings: list[MappingState], ajera: dict[str, Record],
                 crm: dict[str, Record]) -> None:
    import json

    from include.sync.db import format_ts
    from include.sync.staging import stage

    with db.begin() as tx:
        stage(tx, run_id, rt, "ajera", ajera.values())
        stage(tx, run_id, rt, "crm", crm.values())
        tx.execute("insert_mapping", [{
            "record_type": rt.name, "ajera_key": m.ajera_key, "crm_key": m.crm_key, "match_method": "name_exact",
            "ajera_modified": format_ts(m.ajera_modified) if m.ajera_modified else None,
            "crm_modified": format_ts(m.crm_modified) if m.crm_modified else None,
            "ajera_hash": m.ajera_hash, "crm_hash": m.crm_hash,
            "ajera_fields": json.dumps(m.ajera_fields) if m.ajera_fields is not None else None,
            "crm_fields": json.dumps(m.crm_fields) if m.crm_fields is not None else None,
            "run_id": run_id, "now": format_ts(T0), "synced_at": format_ts(T0)} for m in mappings])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(w=world)
def test_database_path_equals_the_simple_plan(sync_db: Any, w: dict[str, Any]) -> None:
    """Columns streamed from the staged snapshot and the mapping table, full records loaded by key."""
    import uuid

    from include.sync.plan_columns import plan_from_database
    from include.sync.staging import load_mappings, load_staged

    rt = CONTACT
    mappings, ajera, crm, reviewed, options = _build(rt, w)
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    with sync_db.begin() as tx:
        tx.conn.exec_driver_sql("DELETE FROM record_mapping")
    _stage_world(sync_db, run_id, rt, mappings, ajera, crm)
    expected = plan_record_type(rt, load_mappings(sync_db, rt), load_staged(sync_db, run_id, rt, "ajera"),
                                load_staged(sync_db, run_id, rt, "crm"), options, reviewed)
    assert plan_from_database(sync_db, rt, run_id, options, reviewed) == expected
