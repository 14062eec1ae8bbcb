"""CRM projects with phase and task rows: the project hub returns them too, unless asked for project rows
only (``wbstype=wbs1``), which the client does. A sync must not mistake a phase for a project."""

from __future__ import annotations

import pytest

from tests.support.engine import Engine

pytestmark = pytest.mark.integration

PROJECTS = ("firm", "employee", "project")


def test_phase_and_task_rows_are_not_synced_as_projects(engine: Engine) -> None:
    first = engine.sync(record_types=PROJECTS)
    assert first.completed, first.lines()
    mapped = {m.crm_key for m in engine.mappings("project")}
    wbs1 = sorted(mapped)[0]
    flagged = engine.crm.list("project", [("AjeraSync", "=", "Y")], fields=["WBS1"])
    for parent in {wbs1, *(p["WBS1"] for p in flagged[:3])}:
        for phase, name in (("01", "Schematic Design"), ("02", "Construction Documents")):
            engine.crm.create("project", {"WBS1": parent, "WBS2": phase, "Name": name, "AjeraSync": "Y"})
        engine.crm.create("project", {"WBS1": parent, "WBS2": "01", "WBS3": "001", "Name": "Site Survey",
                                      "AjeraSync": "Y"})
    every_row = engine.crm.list("project", wbstype=None)
    assert len(every_row) > len(engine.crm.list("project", wbstype="wbs1"))  # the hub does return them

    ajera_before = len(engine.ajera.list("Projects"))
    run = engine.sync(record_types=PROJECTS)
    assert run.completed, run.lines()
    writes = [r for r in engine.log(run.run_id) if r.record_type == "project"
              and r.action in ("created", "mapped", "error", "unlinked", "ambiguous")]
    assert writes == []
    assert len(engine.ajera.list("Projects")) == ajera_before
    assert {m.crm_key for m in engine.mappings("project")} == mapped
