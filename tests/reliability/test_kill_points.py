"""SIGKILL of the sync process at every write point of every record type: no duplicate, no lost edit.

A child process runs one sync (``tests/reliability/sync_child.py``) and kills itself with SIGKILL at its
N-th API write, right after the write was sent and answered (the worst moment: the other system has the
change, the sync database does not know yet) or right before it. Then either the same run is carried on
(what a task retry does) or the next run starts afresh (no retry: the killed run's lock lease must expire
first), and the sync runs until quiet. Every N from 1 to the number of writes a clean run makes is tried,
both ways, for a first sync (creates and links: the duplicate risk) and for a sync of edits made on both
sides of every record type (updates: the lost-edit risk). With PostgreSQL given too, the cases are shared
between the two backends (each tried once), as the suite's time allows.
"""

from __future__ import annotations

import copy
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from include.sync import record_types
from include.sync.runner import run_sync
from include.sync.runs import RunOptions
from simulators import datagen
from tests.support.backends import backend_share
from tests.support.engine import Engine, start_engine, stop_engine
from tests.support.reliability import (
    EDITABLE,
    TWO_WAY,
    ajera_record,
    child_for,
    child_result,
    crm_record,
    edit_ajera,
    edit_crm,
    extra_copies,
    fresh_value,
    mapped_pairs,
    names,
    run_until_quiet,
)

pytestmark = pytest.mark.integration
# Small enough that trying every write point stays quick; still every record type writes in a first sync.
KILL_WORLD = datagen.Sizes(firms=2, contacts=2, employees=2, vendors=1, projects=3, templates=1)
LEASE = {"AJERA_CRM_LOCK_TTL_SECONDS": "1"}  # a killed run's lock expires quickly for the next run
FIGURES: dict[str, int] = {"kill points": 0, "duplicates": 0, "lost": 0}


def _world() -> datagen.World:
    """The small world, with one more CRM contact and project flagged Sync to Ajera, so that a first sync
    also creates in Ajera (an Update creating a contact, a CreateProjects call)."""
    world = copy.deepcopy(datagen.generate(seed=5, sizes=KILL_WORLD))
    template = str(world.ajera["ProjectTemplates"][0]["ProjectTemplateKey"])
    world.crm["contact"].append({**world.crm["contact"][0], "ContactID": "kill-contact", "FirstName": "Kilian",
                                 "MiddleName": "", "LastName": "de la Cruz", "AjeraSync": "Y"})
    world.crm["project"].append({**world.crm["project"][0], "WBS1": "2096001.00", "Name": "Killpoint Library",
                                 "LongName": "Killpoint Library", "AjeraSync": "Y", "Status": "A",
                                 "ProjectTemplate": template})
    return world


def _edit_everything(engine: Engine) -> list[tuple[str, tuple[str, str], str, Any]]:
    """One edit per side per record type (Ajera only for one-way types); returns (type, pair, field, value)."""
    edits = []
    for t in record_types.ORDER:
        pairs = mapped_pairs(engine, t)
        if not pairs:
            continue
        field = EDITABLE[t][0]
        value = fresh_value(field)
        edit_ajera(engine, t, pairs[0][0], field, value)
        edits.append((t, pairs[0], field, value))
        if t in TWO_WAY:  # the last pair (the same one when only one syncs: another field, merged per field)
            other = EDITABLE[t][1]
            value = fresh_value(other)
            edit_crm(engine, t, pairs[-1][1], other, value)
            edits.append((t, pairs[-1], other, value))
    return edits


def _lost(engine: Engine, edits: list[tuple[str, tuple[str, str], str, Any]]) -> list[str]:
    out = []
    for t, pair, field, value in edits:
        a, c = ajera_record(engine, t, pair[0]), crm_record(engine, t, pair[1])
        if a is None or c is None or a.fields.get(field) != value or c.fields.get(field) != value:
            out.append(f"{t} {pair} {field}={value!r}: Ajera {a and a.fields.get(field)!r}, "
                       f"CRM {c and c.fields.get(field)!r}")
    return out


def _scenario(url: str, phase: str, kill_at: int, when: str, retry: bool,
              reference: dict | None) -> tuple[Any, dict, list[str], int]:
    """Returns (the write points of the child's run, name counts after, lost edits, duplicates)."""
    engine, parts = start_engine(url, _world())
    try:
        edits: list = []
        if phase == "edits":
            run_until_quiet(engine)
            edits = _edit_everything(engine)
        child = child_for(engine, url)
        done = child.run("killed-run", kill_at=kill_at, kill_when=when, env=child.env(**LEASE))
        result = child_result(done.stdout)
        if kill_at:
            assert done.returncode == -signal.SIGKILL, (done.returncode, done.stderr[-3000:])
            if retry:  # the task retry: the same run carries on where it died
                run_sync(engine.db, engine.ajera, engine.crm, "killed-run", RunOptions())
        else:
            assert done.returncode == 0, done.stderr[-3000:]
        run_until_quiet(engine)
        after = names(engine)
        dupes = extra_copies(reference, after) if reference is not None else 0
        return result.get("points", []), after, _lost(engine, edits), dupes
    finally:
        stop_engine(parts)


@pytest.mark.parametrize("phase", ["first_sync", "edits"])
def test_sigkill_at_every_write_point(new_db_url: Any, sync_db_url: str, phase: str) -> None:
    # A clean run: how many write points there are, and the name counts every killed run must end with.
    points, reference, lost, _ = _scenario(new_db_url(), phase, 0, "after", False, None)
    writes = len(points)
    # Every record type writes (vendors are CRM firms), in both directions for the two-way types.
    written = {p.split()[-1] for p in points}
    expected = {"Clients", "Contacts", "Projects", "firm", "contact", "employee", "project"}
    assert expected <= written, f"write points of a clean {phase} run: {points}"
    assert not lost
    # Every point after its write, with and without a retry; before the write (the call never sent) at
    # every other point of a first sync, where a create marked in flight but never made is the risk.
    every = [(kill_at, when, retry) for kill_at in range(1, writes + 1)
             for when, retry in [("after", True), ("after", False)]
             + ([("before", True)] if phase == "first_sync" and kill_at % 2 else [])]
    cases = backend_share(every, sync_db_url)  # each case once, on one backend or the other
    # Each case has its own simulators and sync database; they mostly wait on HTTP and child processes.
    urls = [new_db_url() for _ in cases]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda c: _scenario(c[0], phase, *c[1], reference), zip(urls, cases)))
    failures = []
    for (kill_at, when, retry), (_, after, lost, dupes) in zip(cases, results):
        FIGURES["kill points"] += 1
        FIGURES["duplicates"] += dupes
        FIGURES["lost"] += len(lost)
        if dupes or lost or after != reference:
            failures.append(f"kill at write {kill_at} ({when}, {'retry' if retry else 'no retry'}): "
                            f"{dupes} duplicates, lost {lost}")
    edits = len(record_types.ORDER) + len(TWO_WAY) if phase == "edits" else 0
    print(f"\nSIGKILL ({phase}): {writes} write points ({', '.join(points)}), {len(cases)} of {len(every)} kills "
          f"tried on this backend, "
          f"{edits * len(cases)} edits made before the killed runs; totals so far: {FIGURES['kill points']} kills, "
          f"{FIGURES['duplicates']} duplicates, "
          f"{FIGURES['lost']} lost edits")
    assert not failures, failures
