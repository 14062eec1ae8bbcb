"""The validation rules of the staged extracts as a Great Expectations suite (one per record type and system).

Pure: a pandas DataFrame in, a ``SuiteResult`` out, no database access. ``include.sync.validate`` builds the
frame from the staged rows (``frame``), runs ``check`` and quarantines every failing row it names.

Great Expectations is imported inside the functions (the import takes seconds) and its ephemeral context,
data source and one validation definition per suite are created once per process and reused: the first
check in a process pays the import (3-7 s); later ones take about 0.1 s for 1,000 or 10,000 rows.

Frame columns (``frame`` makes them; ``check`` fills in the optional ones when a caller leaves them out):

- ``record_key``: the system's key (a blank key counts as missing)
- ``record_name``: the matching name
- ``modified``: the system's last-modified date
- ``flagged``: the sync flag
- ``fetched`` (optional, default True): the full record was read, so the modified date must be there
- ``status`` (optional): the raw status value, checked against the vocabulary of the record type's status
  field (its spec) when it has one for the system
- ``name_length`` (optional, default ``len(record_name)``)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from include.sync.model import Record
    from include.sync.record_types import RecordType

COLUMNS = ("record_key", "record_name", "modified", "flagged", "fetched", "status", "name_length")


@dataclass(frozen=True)
class SuiteResult:
    suite: str  # e.g. "firm_ajera"
    success: bool
    evaluated: int  # expectations evaluated
    successful: int
    failed_expectations: list[str]  # e.g. "expect_column_values_to_be_unique(record_key)"
    failures: list[tuple[str | None, str]]  # (record_key, reason), one per failing row and reason
    rows: int
    seconds: float
    errors: list[str] = field(default_factory=list)  # expectations that raised instead of evaluating

    def reasons_by_key(self) -> dict[str | None, list[str]]:
        merged: dict[str | None, list[str]] = {}
        for key, reason in self.failures:
            reasons = merged.setdefault(key, [])
            if reason not in reasons:
                reasons.append(reason)
        return merged


# --- the frame ---------------------------------------------------------------------------------------------

def name_limit(rt: RecordType, system: str) -> int:
    return rt.name_max_length if system == "ajera" else getattr(rt, "crm_name_max_length", 100)


def status_rule(rt: RecordType, system: str) -> tuple[str, tuple[str, ...]] | None:
    """(raw status field, allowed values) of ``system``'s records of ``rt``, or None if none is checked: the
    status field of the record type's spec and its vocabulary."""
    return rt.status_rule(system)


def status_value(rt: RecordType, record: Record) -> str | None:
    rule = status_rule(rt, record.system)
    if rule is None or record.raw is None:
        return None
    value = record.raw.get(rule[0])
    return None if value is None or not str(value).strip() else str(value).strip()


def frame(rt: RecordType, records: Iterable[Record]) -> pd.DataFrame:
    """The staged records of one system as the DataFrame the suite validates."""
    import pandas as pd

    rows = [
        {
            "record_key": record.key, "record_name": record.name, "modified": record.modified,
            "flagged": bool(record.flagged), "fetched": record.raw is not None,
            "status": status_value(rt, record), "name_length": len(record.name or ""),
        }
        for record in records
    ]
    df = pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)  # text stays text, missing stays None
    df["modified"] = pd.to_datetime(df["modified"], utc=True)
    return df.astype({"flagged": bool, "fetched": bool, "name_length": "int64"})


def _normalised(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with a positional index, blank keys and names as missing, and the optional columns filled."""
    import pandas as pd

    out = df.reset_index(drop=True).copy()

    def blank_to_none(value: Any) -> Any:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        return None if isinstance(value, str) and not value.strip() else value

    for column in ("record_key", "record_name", "status"):
        if column not in out.columns:
            out[column] = None
        out[column] = out[column].astype(object).map(blank_to_none).astype(object)
    out["record_name"] = out["record_name"].map(lambda v: v.strip() if isinstance(v, str) else v).astype(object)
    if "name_length" not in out.columns:
        out["name_length"] = df["record_name"].reset_index(drop=True).map(
            lambda v: len(v) if isinstance(v, str) else 0)
    if "fetched" not in out.columns:
        out["fetched"] = True
    if "modified" not in out.columns:
        out["modified"] = None
    out["fetched"] = out["fetched"].fillna(True).astype(bool)
    out["name_length"] = out["name_length"].fillna(0).astype("int64")
    return out


# --- the suite ---------------------------------------------------------------------------------------------

_lock = threading.Lock()
_context_state: dict[str, Any] = {}
_definitions: dict[tuple[Any, ...], Any] = {}


def _gx() -> tuple[Any, Any]:
    """(great_expectations module, pandas data source of the process's one ephemeral context)."""
    if "source" not in _context_state:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _context_state.update(gx=gx, context=context, source=context.data_sources.add_pandas("sync_staged"))
    return _context_state["gx"], _context_state["source"]


def warm_up() -> None:
    """Great Expectations' import and context, paid once per process: a benchmark pays it before its figures."""
    _gx()


def _suite_key(rt: RecordType, system: str) -> tuple[Any, ...]:
    rule = status_rule(rt, system)
    return (rt.name, system, name_limit(rt, system), rule[1] if rule else None)


def _definition(rt: RecordType, system: str) -> Any:
    """The validation definition of one suite, built once per process (asset, batch definition, suite)."""
    key = _suite_key(rt, system)
    if key in _definitions:
        return _definitions[key]
    gx, source = _gx()
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    name = f"{rt.name}_{system}_{len(_definitions)}"
    batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
    context = _context_state["context"]
    suite = context.suites.add(gx.ExpectationSuite(name=name))
    limit = name_limit(rt, system)
    expectations = [
        gxe.ExpectColumnValuesToNotBeNull(column="record_key", meta={"check": "key_present"}),
        gxe.ExpectColumnValuesToBeUnique(column="record_key", meta={"check": "key_unique"}),
        gxe.ExpectColumnValuesToNotBeNull(column="record_name", meta={"check": "name_present"}),
        gxe.ExpectColumnValueLengthsToBeBetween(column="record_name", min_value=1,
                                                meta={"check": "name_present"}),
        gxe.ExpectColumnValuesToBeBetween(column="name_length", max_value=limit,
                                          meta={"check": "name_length", "limit": limit}),
        gxe.ExpectColumnValuesToNotBeNull(column="modified", row_condition=Column("fetched") == True,  # noqa: E712
                                          meta={"check": "modified_present"}),
    ]
    rule = status_rule(rt, system)
    if rule is not None:
        expectations.append(gxe.ExpectColumnValuesToBeInSet(
            column="status", value_set=list(rule[1]), meta={"check": "status_valid", "allowed": list(rule[1])}))
    for expectation in expectations:
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(gx.ValidationDefinition(data=batch, suite=suite, name=name))
    _definitions[key] = definition
    return definition


def _reason(meta: dict[str, Any], value: Any, key: object, counts: dict[Any, int]) -> str:
    check = meta.get("check")
    if check == "key_present":
        return "the key is empty"
    if check == "key_unique":
        return f"the key {key} is not unique ({counts.get(key, 2)} rows)"
    if check == "name_present":
        return "the name is empty"
    if check == "name_length":
        return f"the name is {int(value)} characters, over the limit of {meta['limit']}"
    if check == "modified_present":
        return "the modified date is missing"
    if check == "status_valid":
        return f"the status {value!r} is not one of {', '.join(meta['allowed'])}"
    return f"failed {check}"


def check(rt: RecordType, system: str, df: pd.DataFrame) -> SuiteResult:
    """Run the record type's suite for ``system`` over ``df``; every failing row is named with its reason.

    A failing row's key is the ``record_key`` of ``df`` as given (None where it is missing)."""
    started = time.perf_counter()
    data = _normalised(df)
    original_keys = list(df["record_key"]) if "record_key" in df.columns else [None] * len(data)
    with _lock:
        definition = _definition(rt, system)
        result = definition.run(batch_parameters={"dataframe": data},
                                result_format={"result_format": "COMPLETE"})
    counts = data["record_key"].value_counts(dropna=True).to_dict()
    failures: list[tuple[str | None, str]] = []
    failed: list[str] = []
    errors: list[str] = []
    for res in result.results:
        if res.success:
            continue
        config = res.expectation_config
        failed.append(f"{config.type}({config.kwargs.get('column')})")
        info = res.exception_info or {}
        if info.get("raised_exception"):
            errors.append(f"{config.type}: {info.get('exception_message')}")
            continue
        indexes = res.result.get("unexpected_index_list") or []
        values = res.result.get("unexpected_list") or [None] * len(indexes)
        for index, value in zip(indexes, values):
            key = original_keys[int(index)]
            key = None if key is None or (isinstance(key, float) and key != key) else str(key)
            failures.append((key, _reason(config.meta or {}, value, data.at[int(index), "record_key"], counts)))
    unique_failures = list(dict.fromkeys(failures))  # first of each, in order
    stats = result.statistics
    return SuiteResult(
        suite=f"{rt.name}_{system}", success=bool(result.success),
        evaluated=int(stats["evaluated_expectations"]), successful=int(stats["successful_expectations"]),
        failed_expectations=failed, failures=unique_failures, rows=len(data),
        seconds=round(time.perf_counter() - started, 4), errors=errors,
    )


def check_records(rt: RecordType, system: str, records: Iterable[Record]) -> SuiteResult:
    return check(rt, system, frame(rt, records))
