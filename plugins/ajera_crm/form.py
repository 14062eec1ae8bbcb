"""The trigger form of the sync DAG: labelled fields in sections, as Deltek's sync dialog groups them."""

from __future__ import annotations

from airflow.sdk import Param

from ajera_crm.steps import DEFAULT_MODE
from include.sync.record_types import ORDER, RECORD_TYPES
from include.sync.runs import RunOptions

WHAT = "What to sync"
DELTEK = "Deltek sync options"
RUN = "How to run"

_PLURAL = {"firm": "Firms", "contact": "Contacts", "employee": "Employees", "vendor": "Consultant vendors",
           "project": "Projects"}


def record_type_label(name: str) -> str:
    rt = RECORD_TYPES[name]
    direction = ("both ways" if len(rt.directions) > 1
                 else "Ajera to CRM" if "ajera_to_crm" in rt.directions else "CRM to Ajera")
    return f"{_PLURAL.get(name, name.title())} ({direction})"


def params() -> dict[str, Param]:
    return {
        "record_types": Param(
            list(ORDER), type="array", items={"type": "string", "enum": list(ORDER)},
            examples=list(ORDER), values_display={name: record_type_label(name) for name in ORDER},
            title="Record types", section=WHAT, minItems=1,
            description="Record types to sync; they always run in dependency order (firms before contacts "
                        "and projects). Types left out are skipped."),
        "mode": Param(
            DEFAULT_MODE, enum=["two_way", "one_way"], title="Sync mode", section=WHAT,
            values_display={"two_way": "Two-way (Ajera 8.09 and later)",
                            "one_way": "One-way: CRM to Ajera import only (before Ajera 8.09)"},
            description="Two-way carries changes both ways; one-way only imports CRM records into Ajera."),
        "sync_closed_projects": Param(
            False, type="boolean", title="Sync closed projects", section=DELTEK,
            description="Also sync projects that are closed on both sides (left alone by default)."),
        "contact_cap": Param(
            5, type="integer", minimum=1, maximum=100, title="Synced contacts per firm", section=DELTEK,
            description="At most this many contacts per firm are synced (Deltek's default is 5); the next "
                        "ones are logged as skipped."),
        "project_contact_cap": Param(
            RunOptions.project_contact_cap, type="integer", minimum=0, maximum=100,
            title="Synced contacts per project", section=DELTEK,
            description="At most this many of an Ajera project's contacts (in Ajera's order) are put on the CRM "
                        "project (Deltek's default is 5); the next ones are logged as over the cap."),
        "map_unsynced_projects": Param(
            False, type="boolean", title="Map unsynced Ajera projects to existing CRM projects", section=DELTEK,
            description="Link Ajera projects not set to sync and not mapped to the CRM project of exactly the "
                        "same name; ambiguous names are logged."),
        "sync_historical_consultants": Param(
            False, type="boolean", title="Sync historical project consultants to CRM", section=DELTEK,
            description="Also push every consultant already on every mapped project to the CRM project's "
                        "firms (resumable)."),
        "max_project_batches": Param(
            0, type="integer", minimum=0, maximum=1000, title="Project batches per run", section=DELTEK,
            description="Deltek's cap: at most this many batches of projects per run; the log says how many "
                        "re-runs remain. 0 runs every batch now."),
        "dry_run": Param(
            False, type="boolean", title="Dry run (plan only)", section=RUN,
            description="Plan everything into the integration log as 'planned' and write nothing to either "
                        "system, the mappings or the watermarks."),
        "batch_size": Param(
            500, type="integer", minimum=1, maximum=5000, title="Actions per batch", section=RUN,
            description="Planned actions per apply task (Deltek syncs 500 projects per batch)."),
    }
