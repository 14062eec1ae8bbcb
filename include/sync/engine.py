"""One sync run as one object: the steps it takes, each a method, and the order they run in, written once.

``STEPS`` says which step waits for which. The DAG (``dags/ajera_crm_sync.py``) makes one task per step and
wires them by it; the in-process runner (``runner``) runs the same steps on threads in the same order. Both call
the same ``RunSteps`` methods: the DAG's task callables (``plugins/ajera_crm/steps.py``) through a ``SyncEngine``
over the worker's connections, the runner, the demo, the benchmark and the tests through one over clients
they built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from include.sync import apply, extract, extract_ahead, plan_step, record_types, runs, validate
from include.sync.db import SyncDatabase
from include.sync.finish import RunSummary, advance_watermarks, finish_run
from include.sync.model import System
from include.sync.project_children import AFTER as CHILDREN_AFTER
from include.sync.project_children import ahead
from include.sync.project_children import step as children
from include.sync.record_types import DEPENDS_ON, ORDER
from include.sync.staging import load_refs
from include.sync.systems import AjeraApi, AjeraSide, CrmApi, CrmSide


class StepKind(StrEnum):
    """A step of a sync run; the value is its DAG task's id (within the record type's task group)."""

    READ_AJERA_AHEAD = "read_ajera_ahead"
    EXTRACT_AJERA = "extract_ajera"
    EXTRACT_CRM = "extract_crm"
    VALIDATE = "validate"
    MATCH = "match_names"
    DIFF = "diff"
    APPLY = "apply"
    FINISH = "finish"
    READS_AHEAD = "project_reads_ahead"
    CHILDREN = "project_children"
    BACKFILL = "consultant_backfill"


# Each record type's steps, each after the ones it names. A type's first steps wait for the types it refers to;
# a type that refers to others also reads Ajera ahead meanwhile (``extract_ahead``), and its Ajera extract
# waits for that too.
TYPE_STEPS: dict[StepKind, tuple[StepKind, ...]] = {
    StepKind.EXTRACT_AJERA: (),
    StepKind.EXTRACT_CRM: (),
    StepKind.VALIDATE: (StepKind.EXTRACT_AJERA, StepKind.EXTRACT_CRM),
    StepKind.MATCH: (StepKind.VALIDATE,),
    StepKind.DIFF: (StepKind.MATCH,),
    StepKind.APPLY: (StepKind.DIFF,),  # one task per batch the diff hands out
    StepKind.FINISH: (StepKind.APPLY,),
}


@dataclass(frozen=True)
class StepId:
    """One step of a run: a record type's (``firm.diff``) or the run's own (``project_children``)."""

    step: StepKind
    record_type: str | None = None

    def __str__(self) -> str:
        return f"{self.record_type}.{self.step}" if self.record_type else str(self.step)


def steps(types: Sequence[str] = ORDER) -> dict[StepId, tuple[StepId, ...]]:
    """Every step of a run over ``types`` and the steps it starts after, in an order that respects them.
    The run starts (``start_run``) before all of them and writes its log (``write_run_log``) after all."""
    graph: dict[StepId, tuple[StepId, ...]] = {}
    for name in ORDER:
        if name not in types:
            continue
        first = tuple(StepId(StepKind.FINISH, t) for t in DEPENDS_ON[name] if t in types)
        for step, after in TYPE_STEPS.items():
            graph[StepId(step, name)] = tuple(StepId(a, name) for a in after) if after else first
        if first:
            ahead = StepId(StepKind.READ_AJERA_AHEAD, name)
            graph = {ahead: (), **graph}
            graph[StepId(StepKind.EXTRACT_AJERA, name)] += (ahead,)
    if "project" in types:
        # The children's Ajera reads start once projects are planned, beside the project batches; the children
        # themselves once every type they read is done (they take what is read as it comes).
        graph[StepId(StepKind.READS_AHEAD)] = (StepId(StepKind.DIFF, "project"),)
        graph[StepId(StepKind.CHILDREN)] = tuple(StepId(StepKind.FINISH, t) for t in CHILDREN_AFTER if t in types)
        graph[StepId(StepKind.BACKFILL)] = (StepId(StepKind.CHILDREN),)
    return graph


STEPS = steps()


def log_after(graph: Mapping[StepId, tuple[StepId, ...]]) -> list[StepId]:
    """What the run's log waits for: each record type's end and each of the run's own steps."""
    return [s for s in graph if s.step is StepKind.FINISH or s.record_type is None]


@dataclass(frozen=True)
class Clients:
    """Both systems' clients, got when a step first needs one: a step that only plans logs in to neither."""

    ajera: Callable[[], AjeraApi]
    crm: Callable[[], CrmApi]

    @classmethod
    def of(cls, ajera: AjeraApi, crm: CrmApi) -> Clients:
        return cls(lambda: ajera, lambda: crm)


@dataclass(frozen=True)
class SyncEngine:
    """The sync database and both systems: what a run needs besides its options."""

    db: SyncDatabase
    clients: Clients

    def start(self, run_id: str, options: runs.RunOptions) -> RunSteps:
        """A new run (or the same run again, on a retry) with these options."""
        self.db.create_schema()
        runs.start_run(self.db, run_id, options)
        return RunSteps(self, run_id, options)

    def run(self, run_id: str) -> RunSteps:
        """A started run, with the options it was started with."""
        return RunSteps(self, run_id, runs.load_options(self.db, run_id))


@dataclass(frozen=True)
class RunSteps:
    """The steps of one run. Each is one DAG task and may be run again (a retry) with the same outcome."""

    engine: SyncEngine
    run_id: str
    options: runs.RunOptions

    @property
    def db(self) -> SyncDatabase:
        return self.engine.db

    def read_ajera_ahead(self, record_type: str) -> extract_ahead.AheadResult:
        return extract_ahead.read_ahead(self.db, self.engine.clients.ajera(), record_types.get(record_type),
                                        self.run_id)

    def extract(self, record_type: str, system: System) -> extract.ExtractResult:
        rt = record_types.get(record_type)
        refs = load_refs(self.db, rt)
        if system == "crm":
            return extract.extract(self.db, CrmSide(self.engine.clients.crm(), refs), rt, self.run_id, self.options)
        ajera = extract_ahead.Replay(self.db, self.run_id, rt, self.engine.clients.ajera())
        result = extract.extract(self.db, AjeraSide(ajera, refs), rt, self.run_id, self.options)
        extract_ahead.forget(self.db, rt, self.run_id)
        return result

    def validate(self, record_type: str) -> list[validate.ValidationResult]:
        rt = record_types.get(record_type)
        return [validate.validate(self.db, rt, system, self.run_id) for system in ("ajera", "crm")]

    def match(self, record_type: str) -> plan_step.PlanResult:
        return plan_step.match(self.db, record_types.get(record_type), self.run_id, self.options)

    def diff(self, record_type: str) -> plan_step.PlanResult:
        return plan_step.diff(self.db, record_types.get(record_type), self.run_id, self.options)

    def apply_batch(self, record_type: str, batch_no: int) -> dict[str, int]:
        rt = record_types.get(record_type)
        refs = load_refs(self.db, rt)
        return apply.apply_batch(self.db, rt, self.run_id, batch_no, self.options,
                                 AjeraSide(self.engine.clients.ajera(), refs), CrmSide(self.engine.clients.crm(), refs))

    def finish(self, record_type: str) -> dict[str, str | None]:
        """The type's watermarks advanced; raises ``finish.RecordTypeFailed`` when too many records failed."""
        return advance_watermarks(self.db, record_types.get(record_type), self.run_id, self.options)

    def children_skip_reason(self) -> str | None:
        """Why the project children (and their reads ahead) do not run in this run, or None."""
        return children.applies(self.options)

    def read_ahead(self) -> ahead.AheadResult:
        return ahead.read_ahead(self.db, self.engine.clients.ajera(), self.run_id, self.options)

    def children(self) -> dict[str, Any]:
        return children.sync_children(self.db, self.engine.clients.ajera(), self.engine.clients.crm(),
                                      self.run_id, self.options)

    def backfill(self) -> dict[str, Any]:
        return children.consultant_backfill(self.db, self.engine.clients.ajera(), self.engine.clients.crm(),
                                            self.run_id, self.options)

    def write_log(self) -> RunSummary:
        """The run's summary in the integration log, whatever happened to its steps."""
        return finish_run(self.db, self.run_id, self.options)
