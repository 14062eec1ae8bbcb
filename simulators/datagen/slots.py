"""The planted overlap: how many names of each kind (``allocate``), one slot per name (group) with the names it
takes in each system, shuffled keys, the notes that list what was planted, and row counting helpers."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def allocate(n_a: int, n_c: int, exact: float, case: float, near: float, dups_a: int, dups_c: int,
              ) -> dict[str, int]:
    """Counts of each overlap kind so that Ajera uses n_a records and the CRM n_c."""
    n = min(n_a, n_c)
    counts = {"exact": round(n * exact), "case_only": round(n * case), "near_miss": round(n * near),
              "dup_a": dups_a, "dup_c": dups_c}
    if n >= 10:
        for k in ("exact", "case_only", "near_miss"):
            counts[k] = max(1, counts[k])

    def used() -> tuple[int, int]:
        shared = counts["exact"] + counts["case_only"] + counts["near_miss"]
        return (shared + 2 * counts["dup_a"] + counts["dup_c"], shared + counts["dup_a"] + 2 * counts["dup_c"])

    for k in ("dup_a", "dup_c", "near_miss", "case_only", "exact"):
        while counts[k] > 0 and (used()[0] > n_a or used()[1] > n_c):
            counts[k] -= 1
    ua, uc = used()
    counts["ajera_only"] = n_a - ua
    counts["crm_only"] = n_c - uc
    return counts


@dataclass
class Slot:
    """One name (or name group) and the names it takes in each system."""

    kind: str  # exact | case_only | near_miss | dup_a | dup_c | ajera_only | crm_only
    a_names: list[Any]
    c_names: list[Any]
    detail: str = ""
    profile: dict[str, Any] = field(default_factory=dict)
    a_recs: list[dict[str, Any]] = field(default_factory=list)
    c_recs: list[dict[str, Any]] = field(default_factory=list)


def make_slots(counts: dict[str, int], new_name: Callable[[str], Any], case: Callable[[Any], Any],
           near: Callable[[Any], tuple[Any, Any, str]]) -> list[Slot]:
    """Build the slots. ``new_name(kind)`` makes a base name; ``near(base)`` returns (a, c, detail)."""
    slots: list[Slot] = []
    for _ in range(counts["exact"]):
        name = new_name("exact")
        slots.append(Slot("exact", [name], [name]))
    for i in range(counts["case_only"]):
        name = new_name("case_only")
        variant = case(name)
        slots.append(Slot("case_only", [name], [variant]) if i % 2 else Slot("case_only", [variant], [name]))
    for _ in range(counts["near_miss"]):
        a, c, detail = near(new_name("near_miss"))
        slots.append(Slot("near_miss", [a], [c], detail))
    for _ in range(counts["dup_a"]):
        name = new_name("dup")
        slots.append(Slot("dup_a", [name, name], [name]))
    for _ in range(counts["dup_c"]):
        name = new_name("dup")
        slots.append(Slot("dup_c", [name], [name, name]))
    for _ in range(counts["ajera_only"]):
        slots.append(Slot("ajera_only", [new_name("ajera_only")], []))
    for _ in range(counts["crm_only"]):
        slots.append(Slot("crm_only", [], [new_name("crm_only")]))
    return slots


def shuffled_keys(rng: random.Random, n: int) -> list[int]:
    """Positive Ajera keys, handed out in a shuffled order (so the key does not give the overlap away)."""
    keys = list(range(1, n + 1))
    rng.shuffle(keys)
    return keys


def slot_notes(slots: list[Slot], a_key: str, c_key: str, a_name: Callable[[dict], str],
           c_name: Callable[[dict], str]) -> dict[str, Any]:
    out: dict[str, Any] = {"exact": [], "case_only": [], "near_miss": [], "duplicates": [], "ajera_only": [],
                           "crm_only": []}
    for s in slots:
        if s.kind in PAIRED_KINDS:
            pair = {"ajera": s.a_recs[0][a_key], "crm": s.c_recs[0][c_key], "ajera_name": a_name(s.a_recs[0]),
                    "crm_name": c_name(s.c_recs[0])}
            if s.detail:
                pair["kind"] = s.detail
            out[s.kind].append(pair)
        elif s.kind in ("dup_a", "dup_c"):
            out["duplicates"].append({"side": "ajera" if s.kind == "dup_a" else "crm", "name": a_name(s.a_recs[0]),
                                      "ajera": [r[a_key] for r in s.a_recs], "crm": [r[c_key] for r in s.c_recs]})
        elif s.kind == "ajera_only":
            out["ajera_only"].append(s.a_recs[0][a_key])
        else:
            out["crm_only"].append(s.c_recs[0][c_key])
    return out


def count_by(rows: list[dict], key: str) -> dict[Any, int]:
    counts: dict[Any, int] = {}
    for row in rows:
        counts[row[key]] = counts.get(row[key], 0) + 1
    return counts


def dedupe_rows(rows: list[dict], key: str) -> list[dict]:
    seen: set[tuple[str, str]] = set()
    out = []
    for row in rows:
        k = (row["WBS1"], row[key])
        if k not in seen:
            seen.add(k)
            out.append(row)
    return out


PAIRED_KINDS = ("exact", "case_only", "near_miss")  # slots whose name is in both systems, once each


def partners(slots: list[Slot], a_key: str, c_key: str) -> dict[Any, Any]:
    """The CRM key of each paired Ajera record (for linking contacts, projects and grids to their partners)."""
    return {s.a_recs[0][a_key]: s.c_recs[0][c_key] for s in slots if s.kind in PAIRED_KINDS}
