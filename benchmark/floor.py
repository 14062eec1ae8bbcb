"""The Ajera floor: the fewest calls that read and write the records a run actually read and wrote.

Computed from the wire, not from the sync's call names: every Ajera request a run made is reduced to an
``AjeraCall`` (its method, the row keys a List returned, the keys a Get asked for, the records an Update
carried), then each method family is priced at the documented limits:

* ``List<Entity>``: the distinct rows read of the entity, ``ceil(rows / page size)`` calls (at least one);
  a second list of the same rows (a flag list, a name lookup) costs nothing more at the floor.
* ``Get<Entity>`` (and other reads by ``Requested...`` keys): distinct keys, ``ceil(keys / keys per Get)``; a
  record fetched twice counts once. A method whose ``Requested...`` argument is one key, not a list
  (``GetProjectTotals``), costs one call per distinct key.
* ``Update<Entity>``: distinct records, ``ceil(records / records per Update)``.
* ``CreateProjects``: one project per call (the API takes one ``Project``).
* ``CreateAPISession``: one per API version the run's calls used; ``EndAPISession`` is optional (a session
  expires by itself), so it is not in the floor.
* anything else: one call per distinct request.

The limits come from ``include.clients.ajera`` where it states them (employees 50 keys per Get, projects 25,
documented in ajera-records.md §5), else the page size and batch size the client uses (500), which the
public record leaves open (docs/simulator-contract.md). Throttled answers (HTTP 429) read nothing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_BATCH = 500
SESSION_METHODS = ("CreateAPISession", "EndAPISession")


@dataclass(frozen=True)
class Limits:
    page_size: int = DEFAULT_BATCH
    keys_per_get: dict[str, int] = field(default_factory=dict)  # by entity: {"Employees": 50, ...}
    default_keys_per_get: int = DEFAULT_BATCH
    records_per_update: dict[str, int] = field(default_factory=dict)
    default_records_per_update: int = DEFAULT_BATCH
    keys_per_method: dict[str, int] = field(default_factory=dict)  # e.g. GetProjectTotals

    def get_limit(self, method: str, entity: str) -> int:
        return self.keys_per_method.get(method) or self.keys_per_get.get(entity) or self.default_keys_per_get

    def update_limit(self, entity: str) -> int:
        return self.records_per_update.get(entity) or self.default_records_per_update


def documented_limits(page_size: int | None = None) -> Limits:
    """The limits as the Ajera client states them (read defensively: the client's names may change)."""
    from include.clients import ajera

    get_chunk = dict(getattr(ajera, "GET_CHUNK", {}) or {})
    default = int(getattr(ajera, "DEFAULT_CHUNK", DEFAULT_BATCH))
    totals = getattr(ajera, "TOTALS_CHUNK", None)
    return Limits(
        page_size=page_size or DEFAULT_BATCH, keys_per_get=get_chunk, default_keys_per_get=default,
        records_per_update=dict(getattr(ajera, "UPDATE_CHUNK", {}) or get_chunk), default_records_per_update=default,
        keys_per_method={"GetProjectTotals": int(totals)} if totals else {},
    )


@dataclass
class AjeraCall:
    """One Ajera request as the floor sees it."""

    method: str
    version: int | None = None  # API version of the session it used (None: a session call)
    throttled: bool = False  # refused with HTTP 429: read and wrote nothing
    rows: tuple[Any, ...] = ()  # List: the row keys returned
    keys: tuple[Any, ...] = ()  # Get: the keys asked for
    written: tuple[Any, ...] = ()  # Update: the record keys sent (negative: creates)
    one_key: bool = False  # the method takes a single key, not a list (GetProjectTotals): one call per key
    signature: str = ""  # anything else: what makes two requests the same


def entity_of(method: str) -> str:
    for prefix in ("List", "Get", "Update", "Create"):
        if method.startswith(prefix):
            return method[len(prefix):]
    return method


@dataclass(frozen=True)
class MethodFloor:
    calls: int
    floor: int
    records: int  # distinct rows / keys / records behind the floor


def floor_by_method(calls: Iterable[AjeraCall], limits: Limits) -> dict[str, MethodFloor]:
    made: dict[str, int] = defaultdict(int)
    distinct: dict[str, set[Any]] = defaultdict(set)
    versions: set[int] = set()
    keyed: set[str] = set()  # methods that read by key lists
    single: set[str] = set()  # methods that take one key per call
    for call in calls:
        made[call.method] += 1
        if call.throttled:
            continue
        if call.version is not None:
            versions.add(call.version)
        if call.method.startswith("List"):
            distinct[call.method].update(call.rows)
        elif call.method.startswith("Update"):
            distinct[call.method].update(call.written)
        elif call.keys:
            keyed.add(call.method)
            if call.one_key:
                single.add(call.method)
            distinct[call.method].update(call.keys)
        elif call.method not in SESSION_METHODS:
            distinct[call.method].add(call.signature)
    out: dict[str, MethodFloor] = {}
    for method, count in sorted(made.items()):
        items = distinct.get(method, set())
        entity = entity_of(method)
        if method == "CreateAPISession":
            need = len(versions)
        elif method == "EndAPISession":
            need = 0
        elif method.startswith("List"):
            need = max(1, math.ceil(len(items) / limits.page_size))
        elif method == "CreateProjects":
            need = len(items)
        elif method.startswith("Update"):
            need = math.ceil(len(items) / limits.update_limit(entity))
        elif method in single:
            need = len(items)
        elif method in keyed:
            need = math.ceil(len(items) / limits.get_limit(method, entity))
        else:
            need = len(items)
        out[method] = MethodFloor(count, need, len(items))
    return out


def total(by_method: dict[str, MethodFloor]) -> tuple[int, int]:
    """(calls made, floor calls)."""
    return sum(m.calls for m in by_method.values()), sum(m.floor for m in by_method.values())
