"""A project's sub-grids in the Vantagepoint simulator (firms, employees, the mixed team): reading them and
checking a PUT's rows (insert, update, delete) before any is written."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from simulators.store import Table
from simulators.vantagepoint.answers import fail
from simulators.vantagepoint.schema import GRIDS, HUBS, Field, GridSpec, HubSpec, check_fields
from simulators.vantagepoint.team import teammember_rows


class Grids:
    """The sub-grid part of ``VantagepointSim``."""

    tables: dict[str, Table]
    grids: dict[str, Table]

    if TYPE_CHECKING:  # from VantagepointSim
        def get(self, spec: HubSpec, key: str) -> dict[str, Any]: ...
        def exists(self, hub: str, key: str) -> bool: ...
        def _normal_ref(self, hub: str, value: Any) -> Any: ...
        def _normalise(self, specs: dict[str, Field], record: dict[str, Any]) -> dict[str, Any]: ...

    def grid_rows(self, grid: GridSpec, wbs1: str) -> list[dict[str, Any]]:
        wbs1 = self.get(HUBS["project"], wbs1)["WBS1"]
        out = []
        for row in self.grids[grid.table].where("WBS1", wbs1):
            row = {k: v for k, v in row.items() if k != "_id"}
            if "ClientName" in grid.derived:
                row["ClientName"] = (self.tables["firm"].peek(row["ClientID"]) or {}).get("Name") or ""
            out.append(row)
        if grid.name == "teammember":  # the mixed team: its contacts, then the employee grid's rows
            employees = [{k: v for k, v in r.items() if k != "_id"}
                         for r in self.grids[GRIDS["employee"].table].where("WBS1", wbs1)]
            return teammember_rows(out, employees, self.tables["contact"], self.tables["employee"])
        return out

    def _new_grid_row(self, grid: GridSpec, wbs1: str, row_key: str) -> dict[str, Any]:
        row: dict[str, Any] = {grid.row_id: secrets.token_hex(16).upper(), "WBS1": wbs1, grid.row_key: row_key}
        row.update({name: spec.default for name, spec in grid.fields.items()})
        if grid.ref == "firm":
            # A firm's roles on a project start as the firm's own client/vendor flags.
            firm = self.tables["firm"].get(row_key) or {}
            row["ClientInd"] = firm.get("ClientInd") or "Y"
            row["VendorInd"] = firm.get("VendorInd") or "N"
        row["_id"] = f"{wbs1}|{row_key}"
        return row

    def _grid_row_of(self, grid: GridSpec, wbs1: str, row: dict[str, Any], label: str) -> tuple[str, Any]:
        """The row's store id, from its row key or (for U/D rows) its own id."""
        row_key = self._normal_ref(grid.ref, row.get(grid.row_key))
        if isinstance(row_key, str) and row_key:
            return f"{wbs1}|{row_key}", row_key
        row_id = row.get(grid.row_id)
        if row.get("_transType", "").upper() != "I" and isinstance(row_id, str) and row_id:
            for stored in self.grids[grid.table].where("WBS1", wbs1):
                if str(stored.get(grid.row_id, "")).upper() == row_id.upper():
                    return stored["_id"], stored[grid.row_key]
            raise fail(400, f"{label}: {grid.row_id} {row_id!r} is not on the project", grid.row_id)
        raise fail(400, f"{label}: {grid.row_key} is required", grid.row_key)

    def _plan_grid(self, grid: GridSpec, wbs1: str, rows: Any, stamp: str) -> tuple[list[dict[str, Any]], list[str]]:
        where = f"{grid.body_name} of project {wbs1!r}"
        if not isinstance(rows, list):
            raise fail(400, f"{where} must be an array of rows", grid.body_name)
        table = self.grids[grid.table]
        puts: dict[str, dict[str, Any]] = {}
        deletes: list[str] = []
        accepted = {grid.row_key, grid.row_id, "_transType", "_originalValues", "WBS1", *grid.derived}
        for index, row in enumerate(rows):
            label = f"{where}, row {index}"
            if not isinstance(row, dict):
                raise fail(400, f"{label} must be an object", grid.body_name)
            trans = str(row.get("_transType", "")).upper()
            if trans not in ("I", "U", "D"):
                raise fail(400, f"{label}: _transType must be I, U or D", "_transType")
            unknown = [n for n in row if n not in grid.fields and n not in accepted]
            if unknown:
                raise fail(400, f"{label}: unknown field(s) {', '.join(unknown)}", ", ".join(unknown))
            if row.get("WBS1") not in (None, "", wbs1):
                raise fail(400, f"{label}: WBS1 {row['WBS1']!r} is not this project", "WBS1")
            row_id, row_key = self._grid_row_of(grid, wbs1, row, label)
            current = puts.get(row_id) or table.get(row_id)
            if row_id in deletes:
                current = None
            if trans == "I":
                if current is not None:
                    raise fail(400, f"{label}: {grid.row_key} {row_key!r} is already on the project", grid.row_key)
                if not self.exists(grid.ref, row_key):
                    raise fail(400, f"{label}: {grid.row_key} {row_key!r} does not exist in {grid.ref}", grid.row_key)
                current = self._new_grid_row(grid, wbs1, row_key)
            elif current is None:
                raise fail(400, f"{label}: {grid.row_key} {row_key!r} is not on the project", grid.row_key)
            if trans == "D":
                puts.pop(row_id, None)
                deletes.append(row_id)
                continue
            changes = self._normalise(grid.fields, {n: v for n, v in row.items() if n in grid.fields})
            current.update(changes)
            errors = check_fields(grid.fields, current, self.exists, only=set(changes))
            if errors:
                raise fail(400, f"{label}: " + "; ".join(m for _, m in errors), ", ".join(f for f, _ in errors))
            if grid.stamped:
                current["ModDate"] = stamp
            if row_id in deletes:
                deletes.remove(row_id)
            puts[row_id] = current
        return list(puts.values()), deletes
