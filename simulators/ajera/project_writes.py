"""UpdateProjects and CreateProjects of the simulated Ajera API (version 2): a project's baseline check and
changes, and a new project with its invoice groups and phases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulators.ajera.envelope import TRANSACTION_REFUSED, ApiFailure, answer, invalid
from simulators.ajera.fields import Record, is_int, unknown_fields, validate_fields, with_defaults
from simulators.ajera.project_records import INVOICE_GROUP_FIELDS, PHASE_FIELDS, PROJECT_FIELDS

if TYPE_CHECKING:
    from simulators.ajera.service import AjeraService


class ProjectWrites:
    """The write part of ``ProjectStore``."""

    s: AjeraService
    t: dict[str, Any]

    if TYPE_CHECKING:  # from ProjectStore
        def people(self) -> dict[int, Record]: ...
        def render_project(self, row: Record, people: dict[int, Record]) -> Record: ...
        def bundle(self, rows: list[Record]) -> dict[str, list[Record]]: ...

    def update(self, args: dict[str, Any]) -> Any:
        """v2 UpdateProjects: changed fields per project, the whole GetProjects bundle as the baseline."""
        updated, baselines, single = self._update_args(args)
        people = self.people()
        refusals: list[str] = []
        plans: list[Record] = []
        seen: set[int] = set()
        for rec in updated:
            key = rec.get("ProjectKey")
            if not is_int(key) or key <= 0:
                refusals.append(f"Project {key}: ProjectKey must be a positive integer; "
                                "projects are created with CreateProjects")
                continue
            if key in seen:
                refusals.append(f"Project {key}: appears twice in UpdatedProjects")
                continue
            seen.add(key)
            new, problems = self._updated_project(rec, key, baselines, people)
            if new is None or problems:
                refusals.extend(problems)
                continue
            plans.append(new)
        if single and refusals:
            raise ApiFailure(400, TRANSACTION_REFUSED, refusals)
        stamp = self.s.stamp("Projects")
        for new in plans:
            new["LastModifiedDate"] = stamp
            self.t["Projects"].put(new, commit=False)
        self.s.db.commit()
        return answer(refusals, self.bundle(plans))

    @staticmethod
    def _update_args(args: dict[str, Any]) -> tuple[list[Record], dict[Any, Record], bool]:
        """UpdateProjects' arguments, checked: the updates, the baselines by key, single-transaction."""
        problems = []
        extra = sorted(set(args) - {"UpdatedProjects", "UnchangedProjects", "UseSingleTransaction"})
        if extra:
            problems.append(f"UpdateProjects takes no {', '.join(extra)}")
        updated, unchanged = args.get("UpdatedProjects"), args.get("UnchangedProjects")
        single = args.get("UseSingleTransaction", False)
        if not isinstance(updated, list) or not all(isinstance(r, dict) for r in updated):
            problems.append("UpdatedProjects must be a list of {ProjectKey, <changed fields>}")
        if not isinstance(unchanged, dict) or not isinstance(unchanged.get("Projects"), list):
            problems.append("UnchangedProjects must be the GetProjects (version 2) Content "
                            "{Projects, InvoiceGroups, Phases, Resources}")
        if not isinstance(single, bool):
            problems.append("UseSingleTransaction must be true or false")
        if problems:
            raise invalid(problems)
        baselines = {b.get("ProjectKey"): b for b in unchanged["Projects"] if isinstance(b, dict)}
        return updated, baselines, single

    def _updated_project(self, rec: Record, key: int, baselines: dict[Any, Record],
                         people: dict[int, Record]) -> tuple[Record | None, list[str]]:
        """One project of UpdatedProjects merged onto the stored row, and its problems (None: refused)."""
        label = f"Project {key}"
        unknown = unknown_fields(PROJECT_FIELDS, "ProjectKey", rec)
        if unknown:
            return None, [f"{label}: unknown fields {', '.join(unknown)}"]
        stored = self.t["Projects"].get(key)
        if stored is None:
            return None, [f"{label}: not found"]
        base = baselines.get(key)
        if base is None:
            return None, [f"{label}: not in UnchangedProjects"]
        if self.s.comparable(None, base) != self.s.comparable(None, self.render_project(stored, people)):
            return None, [f"{label}: Record has been modified since it was read"]
        new = {**stored, **{k: v for k, v in rec.items() if k != "ProjectKey"}}
        if self.s.comparable(None, new) == self.s.comparable(None, stored):
            return None, [f"{label}: No changes"]
        return new, validate_fields(PROJECT_FIELDS, label, new) + self.s.check_refs(PROJECT_FIELDS, label, new)

    def _next_id(self) -> str:
        numbers = [int(r["ID"]) for r in self.t["Projects"].all() if str(r.get("ID") or "").isdigit()]
        return f"{max(numbers, default=0) + 1:05d}"

    def create(self, args: dict[str, Any]) -> Any:
        """v2 CreateProjects: a project, at least one invoice group (with ClientKey and InvoiceFormatKey)
        and at least one phase; every phase goes under the first invoice group."""
        new, groups, phases = self._checked_create(args)
        key = self.t["Projects"].max_int_key() + 1
        new.update({"ProjectKey": key, "LastModifiedDate": self.s.stamp("Projects")})
        self.t["Projects"].put(new, commit=False)
        group_key = self.t["InvoiceGroups"].max_int_key() + 1
        group_keys = []
        for offset, group in enumerate(groups):
            row = with_defaults(INVOICE_GROUP_FIELDS, {"Description": new["Description"], **group})
            row.pop("InvoiceGroupKey", None)
            row.update({"InvoiceGroupKey": group_key + offset, "ProjectKey": key})
            group_keys.append(row["InvoiceGroupKey"])
            self.t["InvoiceGroups"].put(row, commit=False)
        # Phase keys never equal a project key, so a top-level phase (ParentKey = ProjectKey) is unambiguous.
        phase_key = max(self.t["Phases"].max_int_key(), key) + 1
        for offset, phase in enumerate(phases):
            row = with_defaults(PHASE_FIELDS, {"ID": f"{offset + 1:02d}", "BillingType": new["BillingType"],
                                               "RateTableKey": new.get("RateTableKey"), **phase})
            row.pop("PhaseKey", None)
            row.update({"PhaseKey": phase_key + offset, "ProjectKey": key, "ParentKey": key,
                        "InvoiceGroupKey": group_keys[0]})
            self.t["Phases"].put(row, commit=False)
        self.s.db.commit()
        return answer([], self.bundle([new]))

    def _checked_create(self, args: dict[str, Any]) -> tuple[Record, list[Record], list[Record]]:
        """CreateProjects' arguments, checked: the new project (defaults filled in), its groups and phases."""
        problems: list[str] = []
        extra = sorted(set(args) - {"CreateType", "Project", "InvoiceGroups", "Phases"})
        if extra:
            problems.append(f"CreateProjects takes no {', '.join(extra)}")
        if args.get("CreateType") != "Project":
            problems.append(f'CreateType must be "Project" (got {args.get("CreateType")!r})')
        project, groups, phases = args.get("Project"), args.get("InvoiceGroups"), args.get("Phases")
        if not isinstance(project, dict):
            raise invalid([*problems, "Project must be an object"])
        if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
            problems.append("InvoiceGroups must list at least one invoice group {Description, ClientKey, "
                            "InvoiceFormatKey}")
            groups = []
        if not isinstance(phases, list) or not phases or not all(isinstance(p, dict) for p in phases):
            problems.append("Phases must list at least one phase {Description}")
            phases = []
        unknown = unknown_fields(PROJECT_FIELDS, "ProjectKey", project)
        if unknown:
            problems.append(f"Project (new): unknown fields {', '.join(unknown)}")
        for name in ("BillingType", "RateTableKey"):
            if project.get(name) in (None, ""):
                problems.append(f"Project (new): {name} is required")
        new = with_defaults(PROJECT_FIELDS, {k: v for k, v in project.items() if k not in ("ProjectKey",)})
        if not new.get("ID"):
            new["ID"] = self._next_id()
        problems += validate_fields(PROJECT_FIELDS, "Project (new)", new)
        problems += self.s.check_refs(PROJECT_FIELDS, "Project (new)", new)
        problems += self._children_problems(new, groups, phases)
        if problems:
            raise invalid(problems)
        return new, groups, phases

    def _children_problems(self, new: Record, groups: list[Record], phases: list[Record]) -> list[str]:
        problems: list[str] = []
        for i, group in enumerate(groups):
            label = f"InvoiceGroups[{i}]"
            bad = unknown_fields(INVOICE_GROUP_FIELDS, "InvoiceGroupKey", group)
            if bad:
                problems.append(f"{label}: unknown fields {', '.join(bad)}")
            for name in ("ClientKey", "InvoiceFormatKey"):
                if not is_int(group.get(name)):
                    problems.append(f"{label}: {name} is required")
            merged = with_defaults(INVOICE_GROUP_FIELDS, {"Description": new["Description"], **group})
            problems += validate_fields(INVOICE_GROUP_FIELDS, label, merged)
            problems += self.s.check_refs(INVOICE_GROUP_FIELDS, label, merged)
        for i, phase in enumerate(phases):
            label = f"Phases[{i}]"
            bad = unknown_fields(PHASE_FIELDS, "PhaseKey", phase)
            if bad:
                problems.append(f"{label}: unknown fields {', '.join(bad)}")
            merged = with_defaults(PHASE_FIELDS, {"ID": f"{i + 1:02d}", **phase})
            problems += validate_fields(PHASE_FIELDS, label, merged)
        return problems
