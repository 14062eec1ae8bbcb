"""The planner at scale (``plan_columns``) returns exactly the plan of the simple planner (``plan_record_type``),
on generated worlds: names that collide under ``exact_key``, flags, fetched and swept records, quarantined
records (bare keys: mapped ones keep their mapping, none is matched or created), changes on either side,
mappings whose partner is gone, closed projects, caps and group moves, reviewed suggestions, a person's
conflict decisions, and a first sync told apart from the mappings (one that crashed part-way). And the
database path (columns streamed from the staged snapshot) equals the simple planner on ``plan_step``'s
inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from include.sync import plan_frames, staging
from include.sync.model import Record
from include.sync.plan_columns import Decisions, plan_columns
from include.sync.plan_frames import DictLoader, mapping_frame, side_frame
from include.sync.plan_model import Plan
from include.sync.planner import MappingState, Options, default_options, plan_record_type
from include.sync.record_types import CONTACT, FIRM, PROJECT
from tests.support.planner_records import BASE_NAMES, VARIANTS, firm_fields

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def columns_plan(rt: Any, mappings: list[MappingState], ajera: dict[str, Record], crm: dict[str, Record],
                 options: Options | None = None, reviewed: dict[tuple[str, str], str] | None = None,
                 decisions: Decisions | None = None, first_sync: bool | None = None,
                 with_changes: bool = True) -> Any:
    return plan_columns(rt, mapping_frame(mappings), side_frame(ajera.values()), side_frame(crm.values()),
                        DictLoader(ajera, crm, mappings), options, reviewed, decisions, first_sync,
                        with_changes=with_changes)


record_spec = st.tuples(
    st.sampled_from(BASE_NAMES), st.sampled_from(range(len(VARIANTS))),
    st.booleans(),  # flagged
    st.sampled_from([True, True, False]),  # fetched (full) or only swept
    st.integers(0, 3),  # modified: minutes after T0
    st.sampled_from(["", "x@example.com", "y@example.com"]),  # a synced field that can differ
    st.sampled_from(["active", "closed"]),
    # group: a contact's firm (a linked one, an unlinked CRM one, none), what the cap counts by
    st.sampled_from(["A:1", "A:2", "c:3", None]),
    st.sampled_from([False] * 5 + [True]),  # quarantined
)


def _record(system: str, key: str, spec: tuple[Any, ...], rt: Any) -> Record:
    """A record as extract stages it; a quarantined one carries the problem validate found."""
    base, variant, flagged, full, minutes, email, status, group, quarantined = spec
    name = VARIANTS[variant](base)
    fields = {**firm_fields(name, email=email, status=status), "description": name, "firm": group or ""}
    fields = {k: fields.get(k) for k in rt.synced}
    return Record(system, key, name, T0 + timedelta(minutes=minutes), flagged,  # type: ignore[arg-type]
                  fields if full else {}, raw=dict(fields) if full else None,
                  content_hash=rt.synced_hash(fields) if full else None,
                  group=group if rt.cap_field else None, problem="bad date" if quarantined else None)


def _as_planned(records: dict[str, Record]) -> dict[str, Record]:
    """What ``plan_step`` plans from (``load_staged(quarantined_as_keys=True)``): a quarantined record is a
    bare key with its name, date and flag."""
    return {k: Record(r.system, k, r.name, r.modified, r.flagged, problem="quarantined") if r.problem else r
            for k, r in records.items()}


world = st.fixed_dictionaries({
    "ajera": st.lists(record_spec, max_size=12),
    "crm": st.lists(record_spec, max_size=12),
    # mappings: (ajera index, crm index, hash kept?, minutes of the last sync, history?, the firm as last
    # synced if it moved since)
    "mappings": st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13), st.booleans(), st.integers(0, 3),
                                   st.booleans(), st.sampled_from([None, None, "A:1", "A:2"])), max_size=8),
    "reviewed": st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13),
                                   st.sampled_from(["proposed", "accepted", "rejected", "linked"])), max_size=4),
    # a person's decisions: (mapping index, field, winning side)
    "decisions": st.lists(st.tuples(st.integers(0, 7), st.sampled_from(["email", "status", "firm", "name"]),
                                    st.sampled_from(["ajera", "crm"])), max_size=3),
    "first_sync": st.sampled_from([None, None, True, False]),
    "mode": st.sampled_from(["two_way", "one_way"]),
    "sync_closed": st.booleans(),
    "cap": st.integers(1, 3),
    "match_unsynced": st.booleans(),
})


@dataclass
class World:
    mappings: list[MappingState]
    ajera: dict[str, Record]  # as staged (quarantined ones whole, with their problem)
    crm: dict[str, Record]
    reviewed: dict[tuple[str, str], str]
    decisions: Decisions
    first_sync: bool | None
    options: Options

    def simple_plan(self, rt: Any) -> Any:
        return plan_record_type(rt, self.mappings, _as_planned(self.ajera), _as_planned(self.crm), self.options,
                                self.reviewed, self.decisions, self.first_sync)

    def columns_plan(self, rt: Any, with_changes: bool = True) -> Any:
        return columns_plan(rt, self.mappings, _as_planned(self.ajera), _as_planned(self.crm), self.options,
                            self.reviewed, self.decisions, self.first_sync, with_changes)


def _mapping(a: Record | None, c: Record | None, a_key: str, c_key: str, keep_hash: bool, minutes: int,
             history: bool, last_firm: str | None) -> MappingState:
    a_hash = (a.content_hash if keep_hash else "old") if a is not None and a.content_hash else "old"
    c_hash = (c.content_hash if keep_hash else "old") if c is not None and c.content_hash else "old"
    at = T0 + timedelta(minutes=minutes)
    last = [dict(r.fields) if history and r is not None and r.raw else None for r in (a, c)]
    for fields in last:
        if fields is not None and last_firm is not None and "firm" in fields:
            fields["firm"] = last_firm  # moved from that firm since the last sync
    return MappingState(a_key, c_key, at, at, a_hash, c_hash, last[0], last[1])


def _build(rt: Any, w: dict[str, Any]) -> World:
    ajera = {f"A{i:02d}": _record("ajera", f"A{i:02d}", s, rt) for i, s in enumerate(w["ajera"])}
    crm = {f"C{i:02d}": _record("crm", f"C{i:02d}", s, rt) for i, s in enumerate(w["crm"])}
    mappings: list[MappingState] = []
    used_a: set[str] = set()
    used_c: set[str] = set()
    for ai, ci, *state in w["mappings"]:
        # Most indices name a record; the last two past the end name one that is gone.
        a_key, c_key = f"A{ai % (len(ajera) + 2):02d}", f"C{ci % (len(crm) + 2):02d}"
        if a_key in used_a or c_key in used_c:
            continue  # a key is in one mapping at most (the table's unique keys)
        used_a.add(a_key)
        used_c.add(c_key)
        mappings.append(_mapping(ajera.get(a_key), crm.get(c_key), a_key, c_key, *state))
    mappings.sort(key=lambda m: m.ajera_key)  # the table's order (select_mappings: ORDER BY ajera_key)
    reviewed = {(f"A{a:02d}", f"C{c:02d}"): status for a, c, status in w["reviewed"]}
    decisions: Decisions = {}
    for index, field_name, winner in w["decisions"]:
        if mappings and field_name in rt.synced:
            m = mappings[index % len(mappings)]
            decisions.setdefault((m.ajera_key, m.crm_key), {})[field_name] = winner
    options = default_options(mode=w["mode"], sync_closed=w["sync_closed"], cap=w["cap"],
                              match_unsynced=w["match_unsynced"])
    return World(mappings, ajera, crm, reviewed, decisions, w["first_sync"], options)


@pytest.mark.parametrize("rt", [FIRM, CONTACT, PROJECT], ids=lambda rt: rt.name)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(w=world)
def test_columns_plan_equals_the_simple_plan(rt: Any, w: dict[str, Any]) -> None:
    built = _build(rt, w)
    matching, changes = built.simple_plan(rt)
    assert built.columns_plan(rt) == (matching, changes)
    # The match step plans the matching alone: the same matching, and no change plan made.
    assert built.columns_plan(rt, with_changes=False) == (matching, Plan())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(w=world)
def test_columns_plan_equals_the_simple_plan_on_a_first_sync(w: dict[str, Any]) -> None:
    built = _build(FIRM, {**w, "mappings": [], "decisions": []})
    assert built.columns_plan(FIRM) == built.simple_plan(FIRM)


def test_empty_inputs() -> None:
    assert columns_plan(FIRM, [], {}, {}) == plan_record_type(FIRM, [], {}, {})


def test_a_quarantined_record_keeps_its_mapping_and_is_never_matched_or_created() -> None:
    """The case the generated worlds reach only by chance, spelled out: a quarantined mapped record is no
    unlink; a quarantined unmapped one is neither linked to its same-named partner nor created."""
    spec = ("Acme Engineering", 0, True, True, 1, "", "active", None, False)
    bad = (*spec[:-1], True)
    built = _build(FIRM, {"ajera": [bad, bad], "crm": [spec, spec], "mappings": [(0, 0, True, 0, True, None)],
                          "reviewed": [], "decisions": [], "first_sync": True, "mode": "two_way",
                          "sync_closed": False, "cap": 5, "match_unsynced": False})
    matching, changes = built.columns_plan(FIRM)
    assert (matching, changes) == built.simple_plan(FIRM)
    assert matching.actions == [] and changes.unlinks == []
    assert [(a.kind, a.ajera_key, a.crm_key) for a in changes.actions] == [("create_in_ajera", None, "C01")]


def test_an_accepted_match_waits_while_its_record_is_quarantined() -> None:
    """Both planners: the accepted pair whose Ajera record could not be read is not linked, and says why; the
    pair whose records read clean is."""
    clean = ("Acme Engineering", 0, True, False, 1, "", "active", None, False)
    other = ("Beta & Sons", 0, True, False, 1, "", "active", None, False)
    bad = (*other[:-1], True)
    built = _build(FIRM, {"ajera": [clean, bad], "crm": [clean, other], "mappings": [],
                          "reviewed": [(0, 0, "accepted"), (1, 1, "accepted")], "decisions": [],
                          "first_sync": False, "mode": "two_way", "sync_closed": False, "cap": 5,
                          "match_unsynced": False})
    matching, changes = built.columns_plan(FIRM)
    assert (matching, changes) == built.simple_plan(FIRM)
    assert [(a.kind, a.ajera_key, a.crm_key) for a in matching.actions] == [("link", "A00", "C00")]
    [note] = [n for n in matching.notes if (n.ajera_key, n.crm_key) == ("A01", "C01")]
    assert note.action == "skipped" and "the Ajera record is quarantined" in note.message
    assert not any(a.ajera_key == "A01" or a.crm_key == "C01" for a in changes.actions)


def test_the_clean_record_of_a_waiting_accepted_match_is_neither_created_nor_linked_elsewhere() -> None:
    """The CRM record of an accepted pair whose Ajera record is quarantined is flagged, and a same-named clean
    Ajera record exists: it waits for its accepted partner (no duplicate, no wrong link)."""
    name = ("Acme Engineering", 0, True, True, 1, "", "active", None, False)
    bad = (*name[:-1], True)
    for ajera in ([bad], [bad, name]):
        built = _build(FIRM, {"ajera": ajera, "crm": [name], "mappings": [], "reviewed": [(0, 0, "accepted")],
                              "decisions": [], "first_sync": False, "mode": "two_way", "sync_closed": False,
                              "cap": 5, "match_unsynced": False})
        matching, changes = built.columns_plan(FIRM)
        assert (matching, changes) == built.simple_plan(FIRM)
        assert not any(a.crm_key == "C00" for a in [*matching.actions, *changes.actions])
        assert not any(s.crm_key == "C00" for s in matching.suggestions)


def _stage_world(db: Any, run_id: str, rt: Any, w: World) -> None:
    import json

    from include.sync.db import format_ts
    from include.sync.staging import stage

    with db.begin() as tx:
        # An earlier run saw every record; this one staged those it read in full and every other bare one: the
        # rest it sees as the earlier run left them. A quarantined record is set aside in the picture, and
        # staged again (and quarantined again) by this run or not (every third, the first included).
        for system, records in (("ajera", w.ajera), ("crm", w.crm)):
            stage(tx, f"{run_id}-before", rt, system, records.values())
            now = [r for i, r in enumerate(records.values())
                   if (r.raw is not None or i % 2) if not r.problem or i % 3]
            stage(tx, run_id, rt, system, now, swept=False)
            scope = {"run_id": run_id, "system": system, "record_type": rt.name}
            for record in (r for r in records.values() if r.problem):
                tx.execute("set_seen_quarantined", {**scope, "record_key": record.key, "quarantined": 1})
                if record in now:
                    tx.execute("quarantine_staged", {**scope, "record_key": record.key})
        tx.execute("insert_mapping", [{
            "record_type": rt.name, "ajera_key": m.ajera_key, "crm_key": m.crm_key, "match_method": "name_exact",
            "ajera_modified": format_ts(m.ajera_modified) if m.ajera_modified else None,
            "crm_modified": format_ts(m.crm_modified) if m.crm_modified else None,
            "ajera_hash": m.ajera_hash, "crm_hash": m.crm_hash,
            "ajera_fields": json.dumps(m.ajera_fields) if m.ajera_fields is not None else None,
            "crm_fields": json.dumps(m.crm_fields) if m.crm_fields is not None else None,
            "run_id": run_id, "now": format_ts(T0), "synced_at": format_ts(T0)} for m in w.mappings])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(w=world)
# A pair this run read on neither side fills its firm's one place: the flagged contact of that firm waits. The
# database path does not stream that pair; it counts it (count_unplanned_groups).
@example(w={"ajera": [("Acme Engineering", 0, True, False, 1, "", "active", "A:1", False),
                      ("Beta & Sons", 0, True, True, 1, "", "active", "A:1", False)],
            "crm": [("Acme Engineering", 0, True, False, 1, "", "active", "A:1", False)],
            "mappings": [(0, 0, True, 0, False, None)], "reviewed": [], "decisions": [], "first_sync": False,
            "mode": "two_way", "sync_closed": False, "cap": 1, "match_unsynced": False})
# The same with the firm's CRM contact quarantined (and not read again): it counts in no firm, the other is created.
@example(w={"ajera": [("Acme Engineering", 0, True, False, 1, "", "active", "A:1", False),
                      ("Beta & Sons", 0, True, True, 1, "", "active", "A:1", False)],
            "crm": [("Acme Engineering", 0, True, False, 1, "", "active", "A:1", True)],
            "mappings": [(0, 0, True, 0, False, None)], "reviewed": [], "decisions": [], "first_sync": False,
            "mode": "two_way", "sync_closed": False, "cap": 1, "match_unsynced": False})
def test_database_path_equals_the_simple_plan(sync_db: Any, w: dict[str, Any]) -> None:
    """Columns of the staged snapshot over the earlier picture and the mapping table (only what the plan can
    need), full records loaded by key, against the simple planner on the whole picture (quarantined records as
    keys)."""
    import uuid

    from include.sync.plan_columns import plan_from_database
    from include.sync.plan_frames import DbLoader
    from include.sync.staging import load_mappings, load_staged

    rt = CONTACT
    built = _build(rt, w)
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    with sync_db.begin() as tx:
        tx.conn.exec_driver_sql("DELETE FROM record_mapping")
    _stage_world(sync_db, run_id, rt, built)
    expected = plan_record_type(rt, load_mappings(sync_db, rt),
                                load_staged(sync_db, run_id, rt, "ajera", keys=built.ajera, quarantined_as_keys=True),
                                load_staged(sync_db, run_id, rt, "crm", keys=built.crm, quarantined_as_keys=True),
                                built.options, built.reviewed, built.decisions, built.first_sync)
    load = DbLoader(sync_db, run_id, rt)
    assert plan_from_database(sync_db, rt, run_id, load, built.options, built.reviewed, built.decisions,
                              built.first_sync) == expected
    # As a run that read many records plans: the picture scanned, the mappings read whole.
    with mock.patch.object(plan_frames, "BY_KEY_UP_TO", 0), mock.patch.object(staging, "BY_KEY_UP_TO", 0):
        assert plan_from_database(sync_db, rt, run_id, load, built.options, built.reviewed, built.decisions,
                                  built.first_sync) == expected
    # The match step's: the same matching from the unmapped records alone.
    assert plan_from_database(sync_db, rt, run_id, load, built.options, built.reviewed, built.decisions,
                              built.first_sync, with_changes=False) == (expected[0], Plan())
