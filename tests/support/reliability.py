"""Shared pieces of the reliability suites: tiny worlds, edits by canonical field, agreement checks.

Edits go through the record types' own conversions (``to_ajera`` / ``to_crm``), so the suites name
canonical fields (phone, title, end_date) and stay valid whatever the wire shapes of a record type are.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from include.clients.ajera import AjeraClient
from include.clients.vantagepoint import VantagepointClient
from include.sync import expectations, record_types
from include.sync.model import Record
from include.sync.names import exact_key
from include.sync.staging import load_refs
from include.sync.systems import AjeraSide, CrmSide
from simulators import datagen
from tests.support.airflow_env import ROOT
from tests.support.engine import Engine

TINY = datagen.Sizes(firms=6, contacts=10, employees=3, vendors=2, projects=10, templates=1)
TWO_WAY = ("firm", "contact", "project")
# Canonical fields each suite edits, per record type (both sides for two-way types, Ajera for the rest).
EDITABLE = {
    "firm": ("phone", "email", "website"),
    "contact": ("phone", "title", "email"),
    "employee": ("title", "email"),
    "vendor": ("phone", "email"),
    "project": ("end_date", "start_date"),
}
_counter = itertools.count(1)


def fresh_value(field: str) -> str:
    n = next(_counter)
    if field.endswith("_date"):
        return f"20{27 + n % 5}-{1 + n % 12:02d}-{1 + n % 28:02d}"
    if field == "phone":
        return f"(555) {n % 1000:03d}-{n:04d}"
    if field in ("email",):
        return f"edit{n}@example.org"
    if field == "website":
        return f"www.edit{n}.example"
    return f"Edited {field} {n}"


def rt(t: str) -> record_types.RecordType:
    return record_types.get(t)


def ajera_record(engine: Engine, t: str, key: str) -> Record | None:
    found = engine.ajera.get(rt(t).ajera_entity, [int(key)])
    return rt(t).from_ajera(found[0], load_refs(engine.db, rt(t))) if found else None


def crm_record(engine: Engine, t: str, key: str) -> Record | None:
    raw = engine.crm.get(rt(t).crm_hub, key)
    return rt(t).from_crm(raw, load_refs(engine.db, rt(t))) if raw else None


def edit_ajera(engine: Engine, t: str, key: str, field: str, value: Any) -> None:
    base = engine.ajera.get(rt(t).ajera_entity, [int(key)])[0]
    updated = rt(t).to_ajera({field: value}, base, load_refs(engine.db, rt(t)))
    result = engine.ajera.update(rt(t).ajera_entity, [updated], [base])
    assert not result.errors, result.errors


def edit_crm(engine: Engine, t: str, key: str, field: str, value: Any) -> None:
    engine.crm.update(rt(t).crm_hub, key, rt(t).to_crm({field: value}, load_refs(engine.db, rt(t))))


def mapped_pairs(engine: Engine, t: str) -> list[tuple[str, str]]:
    """Linked pairs the sync keeps in step: both records there, neither closed (closed ones are left alone),
    and, for a type flagged on both sides, flagged on at least one (a pair flagged on neither stops syncing)."""
    out = []
    two_flags = len(rt(t).directions) == 2
    for r in engine.mappings(t):
        a, c = ajera_record(engine, t, r.ajera_key), crm_record(engine, t, r.crm_key)
        if a is not None and c is not None and not a.problem and not c.problem \
                and not rt(t).closed(a.fields) and not rt(t).closed(c.fields) \
                and (not two_flags or a.flagged or c.flagged):
            out.append((r.ajera_key, r.crm_key))
    return out


def names(engine: Engine) -> dict[tuple[str, str], Counter[str]]:
    """How many records of each name each side holds, per record type."""
    out: dict[tuple[str, str], Counter[str]] = {}
    for t in record_types.ORDER:
        out[(t, "ajera")] = Counter(exact_key(r.name) for r in AjeraSide(engine.ajera).sweep(rt(t)))
        out[(t, "crm")] = Counter(exact_key(r.name) for r in CrmSide(engine.crm).sweep(rt(t)))
    return out


def extra_copies(before: dict[tuple[str, str], Counter[str]], after: dict[tuple[str, str], Counter[str]]) -> int:
    """Records beyond the reference counts: duplicates made by the sync."""
    return sum(max(0, n - before[k].get(name, 0)) for k, counter in after.items() for name, n in counter.items())


def wrote(engine: Engine, run_id: str) -> bool:
    return any(a in ("created", "updated", "mapped") for (_, _, a) in engine.counts(run_id))


def run_until_quiet(engine: Engine, max_runs: int = 5, **options: Any) -> int:
    """Sync until a run writes nothing; returns the number of runs."""
    for n in range(1, max_runs + 1):
        engine.sync(**options)
        if not wrote(engine, f"test-run-{engine.runs:03d}"):
            return n
    raise AssertionError(f"still writing after {max_runs} runs")


def conflict_fields(engine: Engine, t: str) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in engine.db.rows("conflicts_of_type", {"record_type": t})}


def passing_suite(rt: Any, system: str, records: Any) -> expectations.SuiteResult:
    """Great Expectations costs ~0.4 s per suite run, ten per sync: these suites run hundreds of syncs and
    test what happens around the checks, not the checks (the plain per-record checks still run; the
    bad-input corpus keeps the real suite)."""
    return expectations.SuiteResult(f"{rt.name}_{system}", True, 0, 0, [], [], len(list(records)), 0.0)


# --- clients that give up on a write's answer early (to lose answers on purpose) -----------------------

class ImpatientCrm(VantagepointClient):
    """Gives up on a create's answer sooner than the simulator sends a held-back one (reads stay patient,
    so a loaded machine does not turn ordinary calls into timeouts)."""

    def create(self, hub: str, record: dict[str, Any]) -> dict[str, Any]:
        patient, self.timeout = self.timeout, (self.timeout[0], 0.4)
        try:
            return super().create(hub, record)
        finally:
            self.timeout = patient

class ImpatientAjera(AjeraClient):
    def update(self, entity: str, updated: Any, unchanged: Any, single_transaction: bool = False) -> Any:
        patient, self._timeout = self._timeout, (self._timeout[0], 0.4) if isinstance(self._timeout, tuple) else 0.4
        try:
            return super().update(entity, updated, unchanged, single_transaction)
        finally:
            self._timeout = patient


# --- a sync in a child process, for SIGKILL and for two syncs at once ------------------------------------

@dataclass
class Child:
    db_url: str
    ajera_url: str
    crm_url: str

    def command(self, run_id: str, kill_at: int = 0, kill_when: str = "after", **options: Any) -> list[str]:
        spec = {"db_url": self.db_url, "ajera_url": self.ajera_url, "crm_url": self.crm_url,
                "run_id": run_id, "kill_at": kill_at, "kill_when": kill_when, "options": options}
        return [sys.executable, "-m", "tests.reliability.sync_child", json.dumps(spec)]

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(ROOT), "SYNC_CHILD_FAST_VALIDATION": "1", **extra}

    def run(self, run_id: str, kill_at: int = 0, kill_when: str = "after", env: dict[str, str] | None = None,
            **options: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(run_id, kill_at, kill_when, **options), cwd=ROOT, text=True,
                              capture_output=True, env=env or self.env(), timeout=120)

    def start(self, run_id: str, env: dict[str, str] | None = None, **options: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(self.command(run_id, **options), cwd=ROOT, text=True, env=env or self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def child_for(engine: Engine, db_url: str) -> Child:
    return Child(db_url, engine.ajera_sim.url, engine.crm_sim.url)


def child_result(out: str) -> dict[str, Any]:
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}
