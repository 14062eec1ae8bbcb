"""List and Get calls of the simulated Ajera API's v1 entities (and ListVendorTypes): the documented filters,
paging, and the keys a Get asks for."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulators.ajera.envelope import Answer, ApiFailure, answer, invalid
from simulators.ajera.fields import Record, check_filter, full_name, is_int
from simulators.ajera.records import PAGING_ARGS, VENDOR_TYPE_FILTERS, EntitySpec
from simulators.ajera.stamps import STORED_LEN, canonical_stamp
from simulators.store import Table


class Reads:
    """The List and Get part of ``AjeraService``."""

    settings: dict[str, Any]
    tables: dict[str, Table]

    if TYPE_CHECKING:  # from Rendering, beside this in AjeraService
        def renderer(self, spec: EntitySpec) -> Callable[[Record], Record]: ...

    def filter_problems(self, method: str, allowed: dict[str, str], args: dict[str, Any]) -> list[str]:
        problems = []
        for name, value in args.items():
            if name in PAGING_ARGS or value is None:
                continue
            kind = allowed.get(name)
            if kind is None:
                problems.append(f"{name} is not a filter of {method}")
                continue
            problem = check_filter(name, kind, value)
            if problem:
                problems.append(problem)
        return problems

    def list_rows(self, spec: EntitySpec, rows: list[Record], args: dict[str, Any], method: str) -> list[Record]:
        """The rows that pass every documented filter of ``method`` (the filter types are already checked)."""
        preds: list[Callable[[Record], bool]] = []
        statuses = args.get("FilterByStatus")
        if statuses is not None:
            choices = {c.casefold(): c for c in spec.fields["Status"].choices or ()}
            bad = [s for s in statuses if s.casefold() not in choices]
            if bad:
                raise invalid([f"FilterByStatus values must be {', '.join(choices.values())} (got {bad!r})"])
            wanted = {choices[s.casefold()] for s in statuses}
            preds.append(lambda r: r.get("Status") in wanted)
        company = args.get("FilterByCompany")
        if company is not None:
            # Clients, contacts and vendors hold no company: the simulated tenant has one company, key 1.
            preds.append(lambda r: r.get("CompanyKey", 1) in company)
        for arg, field_name in (("FilterByClientType", "ClientTypeKey"), ("FilterByContactType", "ContactTypeKey"),
                                ("FilterByVendorType", "VendorTypeKey"), ("FilterByEmployeeType", "EmployeeTypeKey"),
                                ("FilterByProjectType", "ProjectTypeKey"), ("FilterByDepartment", "DepartmentKey"),
                                ("FilterBySupervisor", "SupervisorKey")):
            values = args.get(arg)
            if values is not None:
                preds.append(lambda r, f=field_name, v=set(values): r.get(f) in v)
        sync = args.get("FilterBySyncToCRM")
        if sync is not None:
            preds.append(lambda r, v=set(sync): bool(r.get("SyncToCRM")) in v)

        def like(arg: str, of: Callable[[Record], str]) -> None:
            needle = args.get(arg)
            if needle is not None:
                preds.append(lambda r, n=needle.casefold(): n in of(r).casefold())  # noqa: B008 - bound once, when built

        if spec.plural == "Projects":
            like("FilterByNameLike", lambda r: f"{r.get('Description') or ''}\n{r.get('ID') or ''}")
            like("FilterByDescriptionLike", lambda r: r.get("Description") or "")
            like("FilterByIDLike", lambda r: r.get("ID") or "")
        else:
            like("FilterByNameLike", spec.name_of)
        like("FilterByText", lambda r: "\n".join((full_name(r), *(str(r.get(f) or "") for f in ("Company", "Title",
                                                                                               "Email")))))
        for arg in ("FilterByNameEquals", "FilterByDescriptionEquals"):
            equals = args.get(arg)
            if equals is not None:
                # SQL Server's default collation: equality ignores case and trailing blanks.
                preds.append(lambda r, t=equals.strip().casefold():  # noqa: B008 - bound once, when built
                             spec.name_of(r).strip().casefold() == t)
        for arg, low in (("FilterByEarliestModifiedDate", True), ("FilterByLatestModifiedDate", False)):
            raw = args.get(arg)
            if raw is None:
                continue
            bound = (canonical_stamp(raw) or "")[:STORED_LEN]
            if low:
                preds.append(lambda r, b=bound: (r.get("LastModifiedDate") or "")[:STORED_LEN] >= b)
            else:
                preds.append(lambda r, b=bound: (r.get("LastModifiedDate") or "")[:STORED_LEN] < b)
        out = [r for r in rows if all(p(r) for p in preds)]
        out.sort(key=lambda r: r[spec.key])
        return out

    @staticmethod
    def page(items: list[Record], args: dict[str, Any]) -> tuple[list[Record], dict[str, Any]]:
        if not args.get("PageResults"):
            return items, {}
        size, number = args.get("PageSize", 10), args.get("PageNumber", 1)
        problems = []
        if not is_int(size) or size < 1:
            problems.append(f"PageSize must be a positive integer (got {size!r})")
        if not is_int(number) or number < 1:
            problems.append(f"PageNumber must be a positive integer, 1 = first page (got {number!r})")
        if problems:
            raise invalid(problems)
        count = max(1, math.ceil(len(items) / size))
        return items[(number - 1) * size: number * size], {"PageSize": size, "PageNumber": number, "PageCount": count}

    def _list(self, spec: EntitySpec, args: dict[str, Any]) -> Answer:
        method = f"List{spec.plural}"
        problems = self.filter_problems(method, spec.filters, args)
        if problems:
            raise invalid(problems)
        rows = self.list_rows(spec, list(self.tables[spec.plural].all()), args, method)
        rows, paging = self.page(rows, args)
        render = self.renderer(spec) if spec.plural == "Contacts" else (lambda r: r)
        items = [{name: render(r).get(name) for name in spec.list_fields} for r in rows]
        return answer([], {spec.plural: items, **paging})

    def _list_vendor_types(self, args: dict[str, Any]) -> Answer:
        """Vendor types as the vendors hold them (the simulator keeps no separate type table)."""
        problems = self.filter_problems("ListVendorTypes", VENDOR_TYPE_FILTERS, args)
        if problems:
            raise invalid(problems)
        types: dict[int, Record] = {}
        for vendor in self.tables["Vendors"].all():
            key = vendor.get("VendorTypeKey")
            if key is not None and key not in types:
                types[key] = {"VendorTypeKey": key, "Description": vendor.get("VendorTypeDescription") or "",
                              "Status": "Active", "Notes": vendor.get("VendorTypeNotes") or "",
                              "_consultant": bool(vendor.get("VendorTypeIsConsultant")),
                              "_credit_card": bool(vendor.get("VendorTypeIsCreditCard"))}
        rows = sorted(types.values(), key=lambda r: r["VendorTypeKey"])
        for arg, flag in (("FilterByIsConsultant", "_consultant"), ("FilterByIsCreditCard", "_credit_card")):
            wanted = args.get(arg)
            if wanted is not None:
                allowed = set(wanted) if isinstance(wanted, list) else {wanted}
                rows = [r for r in rows if r[flag] in allowed]
        if args.get("FilterByStatus") is not None:
            rows = [r for r in rows if r["Status"].casefold() in {s.casefold() for s in args["FilterByStatus"]}]
        rows, paging = self.page(rows, args)
        items = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
        return answer([], {"VendorTypes": items, **paging})

    @staticmethod
    def requested(arg: str, args: dict[str, Any], what: str) -> list[int]:
        keys = args.get(arg)
        if not isinstance(keys, list) or not all(is_int(k) for k in keys):
            raise invalid([f"{arg} must be a list of integer {what}s"])
        return list(dict.fromkeys(keys))

    def _get(self, spec: EntitySpec, args: dict[str, Any]) -> Answer:
        keys = self.requested(f"Requested{spec.plural}", args, spec.key)
        limit = int(self.settings["max_employee_keys"])
        if spec.plural == "Employees" and len(keys) > limit:
            raise ApiFailure(-100, f"GetEmployees accepts at most {limit} keys per call (got {len(keys)})",
                             [f"GetEmployees accepts at most {limit} keys per call (got {len(keys)})"])
        table = self.tables[spec.plural]
        render = self.renderer(spec)
        found: list[Record] = []
        errors: list[str] = []
        for key in keys:
            row = table.get(key)
            if row is None:
                errors.append(f"{spec.singular} {key}: not found")
            else:
                found.append(render(row))
        return answer(errors, {spec.plural: found})
