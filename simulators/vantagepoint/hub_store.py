"""The Vantagepoint simulator's state and behaviour, independent of HTTP routing: the hubs' records (seed,
keys, normal forms, create, update, delete and how a read shows them); the project's sub-grids are in
``grids``. State lives in ``simulators.store`` tables (one per hub, one per project sub-grid)."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from typing import Any

from simulators.store import Database, Table
from simulators.vantagepoint.answers import fail
from simulators.vantagepoint.auth import Sessions
from simulators.vantagepoint.grids import Grids
from simulators.vantagepoint.schema import (
    GRID_BY_BODY_NAME,
    GRIDS,
    HEX32,
    HUBS,
    SERVER_FIELDS,
    Field,
    HubSpec,
    canonical_datetime,
    check_fields,
    format_ms,
    ms_of,
)


class Clock:
    """Modified-date source for one table: UTC milliseconds, strictly increasing even within a millisecond."""

    def __init__(self, last_ms: int = 0) -> None:
        self.last_ms = last_ms
        self._lock = threading.Lock()

    def stamp(self) -> str:
        with self._lock:
            self.last_ms = max(int(time.time() * 1000), self.last_ms + 1)
            return format_ms(self.last_ms)


class VantagepointSim(Grids):
    """The simulator's state and behaviour, independent of HTTP routing."""

    def __init__(self, db: Database, settings: dict[str, Any]) -> None:
        self.db = db
        self.settings = settings
        self.sessions = Sessions(settings)
        self.tables: dict[str, Table] = {name: db.table(name, spec.key) for name, spec in HUBS.items()}
        # Phase (WBS2) and task (WBS3) rows of projects: one record type with the project rows, own table.
        self.wbs = db.table("projectWbs", "_id")
        self.grids: dict[str, Table] = {g.table: db.table(g.table, "_id") for g in GRIDS.values()}
        self.clocks = {name: Clock(self._last_mod_ms(table)) for name, table in self.tables.items()}
        self._next_number = {name: self._max_number(table) for name, table in self.tables.items()}

    # --- start-up ---------------------------------------------------------------------------------------

    @staticmethod
    def _last_mod_ms(table: Table) -> int:
        """Continue after the newest ModDate on disk, so dates stay increasing across a restart."""
        newest = max((row.get("ModDate") or "" for row in table.all()), default="")
        return ms_of(newest) if newest else 0

    @staticmethod
    def _max_number(table: Table) -> int:
        return max((int(k) for k in (r[table.key_field] for r in table.all()) if str(k).isdigit()), default=0)

    def is_empty(self) -> bool:
        return all(len(t) == 0 for t in (*self.tables.values(), self.wbs, *self.grids.values()))

    def load_seed(self, seed: dict[str, list[dict[str, Any]]]) -> None:
        """Load seed records as given (no validation of values: they model data already in the system), but
        refuse a field the hub does not have, so a generator that drifts from the API shape fails loudly."""
        unknown_tables = set(seed) - set(HUBS) - {g.table for g in GRIDS.values()}
        if unknown_tables:
            raise ValueError(f"seed has unknown tables {sorted(unknown_tables)}")
        user = self.settings["username"]
        for hub, spec in HUBS.items():
            records, phases = [], []
            # Seed rows model data already in the system: one shared stamp for those without dates, rather
            # than one millisecond each (which would put a large seed's dates in the future).
            stamp = self.clocks[hub].stamp()
            for raw in seed.get(hub, []):
                self._check_seed_fields(hub, raw, set(spec.all_fields()) - set(spec.derived))
                record = self._normalise_keys(spec, self._with_defaults(spec, raw))
                if not record.get(spec.key):
                    record[spec.key] = self._new_key(spec)
                for name, value in (("CreateUser", user), ("CreateDate", stamp), ("ModUser", user), ("ModDate", stamp)):
                    record[name] = raw.get(name) or value
                (phases if record.get("WBS2") else records).append(record)
            self.tables[hub].put_many(records)
            if phases:
                self.wbs.put_many([{**row, "_id": wbs_id(row)} for row in phases])
                for wbs1 in {row["WBS1"] for row in phases}:
                    parent = self.tables[hub].get(wbs1)
                    if parent is not None and parent.get("SubLevel") != "Y":
                        self.tables[hub].put({**parent, "SubLevel": "Y"})
            self.clocks[hub] = Clock(max(self.clocks[hub].last_ms, self._last_mod_ms(self.tables[hub])))
            self._next_number[hub] = max(self._next_number[hub], self._max_number(self.tables[hub]))
        for grid in GRIDS.values():
            rows = []
            known = {grid.row_key, grid.row_id, "WBS1", *grid.fields, *(["ModDate"] if grid.stamped else [])}
            for raw in seed.get(grid.table, []):
                self._check_seed_fields(grid.table, raw, known)
                row = self._new_grid_row(grid, raw["WBS1"], self._normal_ref(grid.ref, raw[grid.row_key]))
                row.update(self._normalise(grid.fields, {n: raw[n] for n in grid.fields if raw.get(n) is not None}))
                if raw.get(grid.row_id):
                    row[grid.row_id] = raw[grid.row_id]
                rows.append(row)
            self.grids[grid.table].put_many(rows)

    @staticmethod
    def _check_seed_fields(table: str, raw: dict[str, Any], known: set[str]) -> None:
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"seed {table} record has fields the API does not have: {unknown}")

    # --- records ----------------------------------------------------------------------------------------

    @staticmethod
    def _with_defaults(spec: HubSpec, values: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {spec.key: values.get(spec.key)}
        for name, field_spec in spec.fields.items():
            record[name] = values.get(name, field_spec.default)
        for name in SERVER_FIELDS:
            record[name] = values.get(name)
        return record

    def _normal_ref(self, hub: str, value: Any) -> Any:
        """Hex keys are upper case on the server; a caller may send them in either case."""
        if isinstance(value, str) and HUBS[hub].key_kind == "hex" and HEX32.match(value):
            return value.upper()
        return value

    def _normalise(self, specs: dict[str, Field], record: dict[str, Any]) -> dict[str, Any]:
        """Values as the server stores them: hex keys upper case, dates in its one datetime form."""
        for name, field_spec in specs.items():
            value = record.get(name)
            if field_spec.kind == "ref" and field_spec.ref and name in record:
                record[name] = self._normal_ref(field_spec.ref, value)
            elif field_spec.kind == "date" and isinstance(value, str) and value:
                with contextlib.suppress(ValueError):  # validation names the bad value
                    record[name] = canonical_datetime(value)
        return record

    def _normalise_keys(self, spec: HubSpec, record: dict[str, Any]) -> dict[str, Any]:
        if spec.key_kind == "hex" and spec.key in record:
            record[spec.key] = self._normal_ref(spec.name, record[spec.key])
        return self._normalise(spec.fields, record)

    def _new_key(self, spec: HubSpec) -> str:
        if spec.key_kind == "hex":
            return secrets.token_hex(16).upper()
        table = self.tables[spec.name]
        while True:
            self._next_number[spec.name] += 1
            key = str(self._next_number[spec.name]).zfill(spec.number_width)
            if not table.exists(key):
                return key

    def exists(self, hub: str, key: str) -> bool:
        return self.tables[hub].exists(self._normal_ref(hub, key))

    def get(self, spec: HubSpec, key: str) -> dict[str, Any]:
        key = self._normal_ref(spec.name, key)
        record = self.tables[spec.name].get(key)
        if record is None:
            raise fail(404, "Record not found", f"{spec.key} {key}")
        return record

    def rows(self, spec: HubSpec) -> list[dict[str, Any]]:
        """Every row of a hub in its default order; a project's phase and task rows follow it."""
        if spec.name != "project" or len(self.wbs) == 0:
            return list(self.tables[spec.name].all())
        below: dict[str, list[dict[str, Any]]] = {}
        for row in self.wbs.all():
            below.setdefault(row["WBS1"], []).append(row)
        out: list[dict[str, Any]] = []
        for row in self.tables[spec.name].all():
            out.append(row)
            out.extend(sorted(below.get(row["WBS1"], ()), key=lambda r: (r["WBS2"], r["WBS3"])))
        return out

    def present(self, spec: HubSpec, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows as the API answers them: without store ids, with the derived read-only fields."""
        out = []
        for row in rows:
            row = {k: v for k, v in row.items() if k != "_id"}
            if spec.name == "contact":
                firm = self.tables["firm"].peek(row["ClientID"]) if row.get("ClientID") else None
                # Seeded bad data (a list or number as a name) must not break the whole list answer.
                row["flName"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName"))
                                         if isinstance(p, str) and p)
                row["ClientName"] = (firm or {}).get("Name") or ""
            out.append(row)
        return out

    def _check_body(self, spec: HubSpec, body: Any, allowed_extra: set[str] = frozenset()) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise fail(400, f"The request body for {spec.name} must be a JSON object")
        read_only = set(SERVER_FIELDS) | set(spec.derived)
        unknown = [n for n in body if n not in spec.fields and n != spec.key and n not in read_only]
        unknown = [n for n in unknown if n.lower() not in allowed_extra]
        if unknown:
            raise fail(400, f"Unknown field(s) on {spec.name}: {', '.join(unknown)}", ", ".join(unknown))
        # Server-maintained and derived fields are accepted (a caller may send back what it read) and ignored.
        return self._normalise_keys(spec, {k: v for k, v in body.items() if k not in read_only})

    def _validate(self, spec: HubSpec, record: dict[str, Any], changed: set[str] | None, label: str) -> None:
        errors = check_fields(spec.fields, record, self.exists, only=changed)
        for rule in spec.rules:
            errors.extend(rule(record))
        if errors:
            detail = "; ".join(message for _, message in errors)
            raise fail(400, f"Validation failed for {spec.name} {label}: {detail}", label)

    def create(self, spec: HubSpec, body: Any, user: str) -> dict[str, Any]:
        values = self._check_body(spec, body)
        key = values.get(spec.key)
        if key in (None, ""):
            key = None
        elif not isinstance(key, str):
            raise fail(400, f"{spec.key} must be a string", spec.key)
        elif spec.key_kind == "hex" and not HEX32.match(key):
            raise fail(400, f"{spec.key} must be 32 hexadecimal characters, got {key!r}", spec.key)
        elif len(key) > spec.key_max_len:
            raise fail(400, f"{spec.key} is longer than {spec.key_max_len} characters ({len(key)})", spec.key)
        if spec.name == "project" and values.get("WBS2"):
            return self._create_wbs(spec, key, values, user)
        if values.get("WBS3"):
            raise fail(400, "WBS3 needs a WBS2: a task belongs to a phase", "WBS3")
        if key is not None and self.exists(spec.name, key):
            raise fail(400, f"Duplicate key: {spec.name} {key!r} already exists", f"{spec.key} {key}")
        record = self._with_defaults(spec, values)
        label = repr(key) if key else f"(new, Name {values.get('Name', values.get('LastName'))!r})"
        self._validate(spec, record, None, label)
        record[spec.key] = key or self._new_key(spec)
        stamp = self.clocks[spec.name].stamp()
        record.update(CreateUser=user, CreateDate=stamp, ModUser=user, ModDate=stamp)
        return self.tables[spec.name].put(record)

    def _create_wbs(self, spec: HubSpec, wbs1: str | None, values: dict[str, Any], user: str) -> dict[str, Any]:
        """A phase (WBS2) or task (WBS3) row under an existing project (and phase)."""
        if not wbs1:
            raise fail(400, "A phase or task row needs the WBS1 of its project", "WBS1")
        parent = self.get(spec, wbs1)
        row = self._with_defaults(spec, values)
        label = f"{wbs1!r} / {row['WBS2']!r}" + (f" / {row['WBS3']!r}" if row["WBS3"] else "")
        if row["WBS3"] and not self.wbs.exists(wbs_id({**row, "WBS3": ""})):
            raise fail(400, f"Phase {row['WBS2']!r} of project {wbs1!r} does not exist", "WBS2")
        if self.wbs.exists(wbs_id(row)):
            raise fail(400, f"Duplicate key: project {label} already exists", f"WBS1 {wbs1}")
        self._validate(spec, row, None, label)
        stamp = self.clocks[spec.name].stamp()
        row.update(CreateUser=user, CreateDate=stamp, ModUser=user, ModDate=stamp, _id=wbs_id(row))
        self.wbs.put(row)
        if parent.get("SubLevel") != "Y":
            self.tables[spec.name].put({**parent, "SubLevel": "Y", "ModUser": user, "ModDate": stamp})
        return {k: v for k, v in row.items() if k != "_id"}

    def update(self, spec: HubSpec, key: str, body: Any, user: str) -> dict[str, Any]:
        grid_names = set(GRID_BY_BODY_NAME) if spec.name == "project" else set()
        values = self._check_body(spec, body, grid_names)
        record = self.get(spec, key)
        key = record[spec.key]
        if values.get(spec.key, key) != key:
            raise fail(400, f"{spec.key} cannot be changed ({key!r} -> {values[spec.key]!r})", spec.key)
        for level in ("WBS2", "WBS3"):
            if values.get(level):
                raise fail(400, f"{level} cannot be set: PUT /project/{{WBS1}} updates the project row", level)
        grid_writes = [(GRID_BY_BODY_NAME[n.lower()], v) for n, v in values.items() if n.lower() in grid_names]
        changes = {n: v for n, v in values.items() if n in spec.fields}
        record.update(changes)
        self._validate(spec, record, set(changes), repr(key))
        stamp = self.clocks[spec.name].stamp()
        # Check every grid row before writing any, so a bad row leaves the project untouched.
        planned = [self._plan_grid(grid, key, rows, stamp) for grid, rows in grid_writes]
        for grid, (puts, deletes) in zip((g for g, _ in grid_writes), planned):
            table = self.grids[grid.table]
            table.put_many(puts)
            for row_id in deletes:
                table.delete(row_id)
        record.update(ModUser=user, ModDate=stamp)
        return self.tables[spec.name].put(record)

    def delete(self, spec: HubSpec, key: str) -> None:
        key = self.get(spec, key)[spec.key]
        self.tables[spec.name].delete(key)
        if spec.name == "project":
            for table in (self.wbs, *self.grids.values()):
                for row in [r for r in table.all() if r["WBS1"] == key]:
                    table.delete(row["_id"])


def wbs_id(row: dict[str, Any]) -> str:
    return f"{row['WBS1']}|{row['WBS2']}|{row['WBS3']}"
