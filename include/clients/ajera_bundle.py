"""The version 2 project bundle: ``GetProjects`` answers projects with their invoice groups, phases and
resources as flat sibling lists; the client hands out each project with its own children attached, and
sends ``UpdateProjects`` the changed fields against the bundle it read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PROJECT_CHILDREN = ("InvoiceGroups", "Phases", "Resources")


def attach_children(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Projects of a version 2 bundle, each with its own invoice groups, phases and resources attached
    (a resource belongs to a phase by ``PhaseKey``, or ``ParentKey`` as some clients model it)."""
    phase_project = {p.get("PhaseKey"): p.get("ProjectKey") for p in content.get("Phases") or []}
    children: dict[str, dict[Any, list[dict[str, Any]]]] = {name: {} for name in PROJECT_CHILDREN}
    for name in PROJECT_CHILDREN:
        for row in content.get(name) or []:
            owner = row.get("ProjectKey") if name != "Resources" else \
                phase_project.get(row.get("PhaseKey"), phase_project.get(row.get("ParentKey")))
            children[name].setdefault(owner, []).append(row)
    return [{**project, **{name: children[name].get(project.get("ProjectKey"), []) for name in PROJECT_CHILDREN}}
            for project in content.get("Projects") or []]


def detach_children(projects: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The version 2 bundle back from projects with their children attached."""
    bundle: dict[str, list[dict[str, Any]]] = {"Projects": [], **{name: [] for name in PROJECT_CHILDREN}}
    for project in projects:
        bundle["Projects"].append({k: v for k, v in project.items() if k not in PROJECT_CHILDREN})
        for name in PROJECT_CHILDREN:
            bundle[name].extend(project.get(name) or [])
    return bundle


def changed_fields(record: dict[str, Any], baseline: dict[str, Any] | None) -> dict[str, Any]:
    """``{ProjectKey, <fields that differ from the baseline>}``: what UpdateProjects takes."""
    fields = {k: v for k, v in record.items() if k not in PROJECT_CHILDREN}
    if baseline is None:
        return fields
    return {"ProjectKey": record["ProjectKey"],
            **{k: v for k, v in fields.items() if k != "ProjectKey" and baseline.get(k) != v}}
