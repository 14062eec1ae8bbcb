"""The planning compute alone, at N records per side: diff, first-time exact matching, suggestions.

    python -m benchmark.compute --part diff|match|suggest --n 1000000 [--impl columns|simple] [--seed 7]

Each figure is measured in a fresh process (``measure_in_subprocess``), so one figure's memory never
inflates the next. The inputs are built first, as the planner gets them from the database (columns, plus the
full records of what enters the plan); then the peak resident memory is reset and the compute alone is timed.

* ``diff``: N mapped pairs; 1% of each side changed since the last sync (fetched in full), 0.1% of pairs
  lost a side; the rest swept only. Planned by ``plan_columns`` (``--impl simple``: ``plan_record_type``).
* ``match``: a first sync, no mappings: N names per side, most of them equal under ``exact_key`` on the
  other side (case and spacing differ), some duplicated (ambiguous), some different.
* ``suggest``: N unmatched names per side, a share of them near misses (a typo, ``&``/and, a legal suffix),
  through ``include.sync.suggestions.suggest``.
* ``quiet``: the plan of a quiet run from a real sync database (SQLite in a temporary directory) whose picture
  holds N mapped pairs and 1% unmapped records per side, of which this run read 0.1% per side whole (changed)
  and 0.1% of Ajera's flagged with no partner: the match and the diff steps' planning
  (``plan_columns.plan_from_database``, suggestions from their memo as a quiet run finds them). What it costs
  should follow what the run read, not N.

Prints one JSON line: ``{"part", "n", "impl", "seconds", "us_per_record", "peak_rss_mib", "compute_added_mib",
"output"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmark import memory
from benchmark.sims import ROOT, pythonpath

PARTS = ("diff", "match", "suggest", "quiet")
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
SURNAMES = [f"{a}{b}" for a in ("Al", "Bar", "Cor", "Dun", "El", "Fair", "Gar", "Hol", "Ives", "Jor", "Kel", "Lam",
                                "Mor", "Nor", "Ol", "Pem", "Quin", "Ros", "Sut", "Tal")
            for b in ("den", "ford", "ley", "ton", "wick", "more", "by", "son", "ham", "well", "field", "stone",
                      "wood", "brook", "hurst")]  # 300 surnames
KINDS = ["Engineering", "Architects", "Surveying", "Consulting", "Design Group", "Partners", "Associates",
         "Landscape Architecture", "Structural", "Planning", "Builders", "Environmental", "Geotechnical",
         "Interiors", "Civil", "Mechanical", "Electrical", "Lighting", "Acoustics", "Traffic"]
SUFFIXES = ["", "", "", " Inc", " LLC", " LLP", " PC", " Ltd"]


def _names(n: int, rng: random.Random) -> list[str]:
    """N firm-like names from ~1.8M combinations: at 1M some repeat, as real names do."""
    s, k, x = SURNAMES, KINDS, SUFFIXES
    out = []
    for _ in range(n):
        first, second = rng.choice(s), rng.choice(s)
        joiner = rng.choice((" ", " & ", " and ", " "))
        out.append(f"{first}{joiner}{second} {rng.choice(k)}{rng.choice(x)}")
    return out


def _variant(name: str, rng: random.Random) -> str:
    """The same name under exact_key (case, spacing), as the other system may spell it."""
    roll = rng.random()
    if roll < 0.3:
        return name.upper()
    if roll < 0.5:
        return f" {name.lower()}  "
    return name


def _near_miss(name: str, rng: random.Random) -> str:
    """A name a person would call the same firm, though exact_key differs."""
    roll = rng.random()
    if roll < 0.3 and " & " in name:
        return name.replace(" & ", " and ")
    if roll < 0.6:
        i = rng.randrange(1, max(2, len(name) - 1))
        return name[:i] + name[i + 1:]  # a dropped letter
    return name + " Inc" if not name.endswith(("Inc", "LLC", "LLP", "PC", "Ltd")) else name.rsplit(" ", 1)[0]


class _Inputs:
    """Columns as the database streams them, plus the full fields of the records read in full (1%)."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.fields: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, system: str, key: str, name: str, modified: datetime, fetched: bool, fields: dict[str, Any],
            flagged: bool = False) -> tuple[Any, ...]:
        from include.sync.db import format_ts

        if fetched:
            self.fields[(system, key)] = fields
        content_hash = self.rt.synced_hash(fields) if fetched else None
        return (key, name, format_ts(modified), content_hash, fetched, flagged, None, False)


class _Loader:
    """Full records for the keys asked for, made from the columns (as ``DbLoader`` reads them by key)."""

    def __init__(self, inputs: _Inputs, frames: dict[str, Any], mappings: dict[str, Any]) -> None:
        import pandas as pd

        self.inputs, self.frames, self._mappings = inputs, frames, mappings
        self._index = {system: pd.Index(frame["key"]) for system, frame in frames.items()}
        for index in self._index.values():  # the database has its primary-key index before planning starts
            index.get_indexer(index[:1])

    def records(self, system: str, keys: Sequence[str]) -> dict[str, Any]:
        from include.sync.db import parse_ts
        from include.sync.model import Record

        frame = self.frames[system]
        rows = self._index[system].get_indexer(list(keys))
        wanted = [(k, r) for k, r in zip(keys, rows.tolist()) if r >= 0]
        at = [r for _, r in wanted]
        columns = [frame[c].to_numpy(dtype=object)[at].tolist() for c in ("name", "modified", "hash", "fetched",
                                                                           "flagged", "group")]
        out = {}
        for (key, _), name, modified, content_hash, fetched, flagged, group in zip(wanted, *columns):
            fields = self.inputs.fields.get((system, key)) if fetched else None
            out[key] = Record(system, key, name, parse_ts(modified), bool(flagged), fields or {},  # type: ignore[arg-type]
                              raw=dict(fields) if fields is not None else None, content_hash=content_hash, group=group)
        return out

    def mappings(self, ajera_keys: Sequence[str]) -> dict[tuple[str, str], Any]:
        found = (self._mappings.get(k) for k in ajera_keys)
        return {(m.ajera_key, m.crm_key): m for m in found if m is not None}


def _fields(name: str, email: str = "") -> dict[str, Any]:
    return {"name": name, "status": "active", "phone": "", "email": email, "website": "", "address": "",
            "city": "", "state": "", "zip": ""}


def build_diff(n: int, rng: random.Random) -> tuple[Any, ...]:
    from include.sync.db import format_ts
    from include.sync.planner import MappingState
    from include.sync.record_types import FIRM

    inputs = _Inputs(FIRM)
    names = _names(n, rng)
    a_rows, c_rows, m_rows, states = [], [], [], {}
    synced_at, later = T0, T0 + timedelta(hours=1)
    for i, name in enumerate(names):
        a_key, c_key = str(100000 + i), f"C{i:07d}"
        a_changed, c_changed = rng.random() < 0.01, rng.random() < 0.01
        a_gone = rng.random() < 0.001
        old = _fields(name)
        old_hash = FIRM.synced_hash(old)
        if not a_gone:
            a_rows.append(inputs.add("ajera", a_key, name, later if a_changed else synced_at, a_changed,
                                     _fields(name, "new@example.com") if a_changed else old, flagged=True))
        c_rows.append(inputs.add("crm", c_key, name, later if c_changed else synced_at, c_changed,
                                 _fields(name, "crm@example.com") if c_changed else old))
        m_rows.append((a_key, c_key, format_ts(synced_at), format_ts(synced_at), old_hash, old_hash))
        if a_changed or c_changed or a_gone:  # the only mappings the planner loads in full
            states[a_key] = MappingState(a_key, c_key, synced_at, synced_at, old_hash, old_hash, dict(old), dict(old))
    m_rows.sort()
    return FIRM, inputs, a_rows, c_rows, m_rows, states


def build_match(n: int, rng: random.Random) -> tuple[Any, ...]:
    from include.sync.record_types import FIRM

    inputs = _Inputs(FIRM)
    names = _names(n, rng)
    a_rows, c_rows = [], []
    for i, name in enumerate(names):
        a_rows.append(inputs.add("ajera", str(100000 + i), name, T0, False, {}))
        other = _variant(name, rng) if rng.random() < 0.9 else _near_miss(name, rng)
        c_rows.append(inputs.add("crm", f"C{i:07d}", other, T0, False, {}))
    return FIRM, inputs, a_rows, c_rows, [], {}


def build_suggest(n: int, rng: random.Random) -> tuple[list[Any], list[Any]]:
    from include.sync.plan_frames import Stub

    names = _names(n, rng)
    ajera = [Stub("ajera", str(100000 + i), name) for i, name in enumerate(names)]
    crm = [Stub("crm", f"C{i:07d}", _near_miss(name, rng) if rng.random() < 0.5 else rng.choice(names))
           for i, name in enumerate(names)]
    return ajera, crm


def build_quiet(n: int, rng: random.Random, directory: str) -> tuple[Any, Any, str]:
    """A sync database with the picture of a quiet run (see the module doc): (database, record type, run id)."""
    from include.sync.db import SyncDatabase, format_ts
    from include.sync.model import Record
    from include.sync.record_types import FIRM
    from include.sync.staging import stage

    db = SyncDatabase(f"sqlite:///{directory}/sync.db")
    db.create_schema()
    names = _names(n + n // 100, rng)
    sides: dict[str, list[Record]] = {"ajera": [], "crm": []}
    read: dict[str, list[Record]] = {"ajera": [], "crm": []}
    mappings = []
    old_hash = FIRM.synced_hash(_fields(""))
    for i, name in enumerate(names):
        a_key, c_key = str(100000 + i), f"C{i:07d}"
        mapped = i < n
        for system, key in (("ajera", a_key), ("crm", c_key)):
            if not mapped and system == "crm" and i % 2:
                continue  # the unmapped records: some on both sides under the same name, some on one
            flagged = not mapped and system == "ajera" and i % 10 == 0
            sides[system].append(Record(system, key, name, T0, flagged))  # type: ignore[arg-type]
            if rng.random() < 0.001 or flagged:  # read whole this run: changed, or flagged with no partner
                fields = _fields(name, f"{system}@example.com")
                read[system].append(Record(system, key, name, T0 + timedelta(hours=1), flagged, fields,  # type: ignore[arg-type]
                                           raw=dict(fields), content_hash=FIRM.synced_hash(fields)))
        if mapped:
            mappings.append({"record_type": FIRM.name, "ajera_key": a_key, "crm_key": c_key,
                             "match_method": "name_exact", "ajera_modified": format_ts(T0),
                             "crm_modified": format_ts(T0), "ajera_hash": old_hash, "crm_hash": old_hash,
                             "ajera_fields": json.dumps(_fields(name)), "crm_fields": json.dumps(_fields(name)),
                             "run_id": "before", "now": format_ts(T0), "synced_at": format_ts(T0)})
    run_id = "quiet"
    with db.begin() as tx:
        tx.execute("insert_mapping", mappings)
        for system in ("ajera", "crm"):
            stage(tx, "before", FIRM, system, sides[system])  # type: ignore[arg-type]
            stage(tx, run_id, FIRM, system, read[system], swept=False)  # type: ignore[arg-type]
        tx.execute("mark_first_sync_done", {"record_type": FIRM.name, "run_id": "before", "now": format_ts(T0)})
    return db, FIRM, run_id


def _quiet_plan(db: Any, rt: Any, run_id: str) -> tuple[Any, Any]:
    """The match step's plan, then the diff step's, from the database (suggestions through their memo)."""
    from include.sync.plan_columns import plan_from_database
    from include.sync.plan_frames import DbLoader
    from include.sync.plan_model import default_options
    from include.sync.suggestion_memo import Memo

    load, options = DbLoader(db, run_id, rt), default_options()
    matching, _ = plan_from_database(db, rt, run_id, load, options, {}, first_sync=False, with_changes=False,
                                     suggester=Memo(db, rt, run_id))
    _, changes = plan_from_database(db, rt, run_id, load, options, {}, first_sync=False,
                                    suggester=Memo(db, rt, run_id))
    return matching, changes


def _unchanged_state(a_key: str, c_key: str, content_hash: str) -> Any:
    from include.sync.planner import MappingState

    return MappingState(a_key, c_key, T0, T0, content_hash, content_hash)


def measure(part: str, n: int, seed: int, impl: str = "columns") -> dict[str, Any]:
    rng = random.Random(seed)
    if part == "quiet":
        import tempfile

        with tempfile.TemporaryDirectory() as directory:
            db, rt, run_id = build_quiet(n, rng, directory)
            _quiet_plan(db, rt, run_id)  # the run before: it made the suggestions this run finds in the memo
            memory.reset_peak()
            rss0 = memory.rss_mib()
            started, cpu = time.perf_counter(), time.process_time()
            matching, changes = _quiet_plan(db, rt, run_id)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            db.dispose()
        output = {"links": len(matching.actions), "suggestions": len(matching.suggestions),
                  "actions": len(changes.actions), "notes": len(matching.notes) + len(changes.notes)}
    elif part == "suggest":
        from include.sync.suggestions import suggest_with_stats

        ajera, crm = build_suggest(n, rng)
        memory.reset_peak()
        rss0 = memory.rss_mib()
        started, cpu = time.perf_counter(), time.process_time()
        found, comparisons = suggest_with_stats(ajera, crm)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        output = {"suggestions": len(found), "comparisons": comparisons}
    else:
        rt, inputs, a_rows, c_rows, m_rows, states = (build_diff if part == "diff" else build_match)(n, rng)
        from include.sync.plan_columns import plan_columns
        from include.sync.plan_frames import MAPPING_COLUMNS, SIDE_COLUMNS, frame

        a_frame, c_frame = frame(a_rows, SIDE_COLUMNS), frame(c_rows, SIDE_COLUMNS)
        m_frame = frame(m_rows, MAPPING_COLUMNS)
        del a_rows, c_rows, m_rows
        loader = _Loader(inputs, {"ajera": a_frame, "crm": c_frame}, states)
        if impl == "simple":  # the planner over Records: every record made in full first, as load_staged does
            from include.sync.planner import plan_record_type

            ajera = loader.records("ajera", a_frame["key"].tolist())
            crm = loader.records("crm", c_frame["key"].tolist())
            mappings = [states.get(a) or _unchanged_state(a, c, h) for a, c, h in
                        zip(m_frame["ajera_key"].tolist(), m_frame["crm_key"].tolist(), m_frame["ajera_hash"].tolist())]
            del a_frame, c_frame, m_frame, loader
            run = lambda: plan_record_type(rt, mappings, ajera, crm)  # noqa: E731
        else:
            run = lambda: plan_columns(rt, m_frame, a_frame, c_frame, loader, with_suggestions=False)  # noqa: E731
        import gc

        gc.collect()
        memory.reset_peak()
        rss0 = memory.rss_mib()
        started, cpu = time.perf_counter(), time.process_time()
        matching, changes = run()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        output = {"links": len(matching.actions), "notes": len(matching.notes) + len(changes.notes),
                  "actions": len(changes.actions), "unlinks": len(changes.unlinks)}
    peak = memory.peak_mib()
    return {"part": part, "n": n, "impl": impl, "seconds": seconds, "cpu_seconds": cpu,
            "us_per_record": 1e6 * seconds / n, "peak_rss_mib": peak, "compute_added_mib": max(0.0, peak - rss0),
            "output": output}


def measure_in_subprocess(part: str, n: int, seed: int, impl: str = "columns") -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "benchmark.compute", "--part", part, "--n", str(n),
                           "--seed", str(seed), "--impl", impl],
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=pythonpath()), capture_output=True, text=True)
    if done.returncode:
        return {"part": part, "n": n, "impl": impl, "seconds": 0.0, "us_per_record": 0.0, "peak_rss_mib": 0.0,
                "compute_added_mib": 0.0, "note": f"failed: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.compute", description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=PARTS, required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--impl", choices=("columns", "simple"), default="columns")
    args = parser.parse_args()
    print(json.dumps(measure(args.part, args.n, args.seed, args.impl)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
