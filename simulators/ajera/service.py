"""The stateful core of the Ajera simulator: sessions, method dispatch, lists, gets and writes.

It speaks in plain dicts (request payload in, response envelope out) so the FastAPI layer stays thin.
Every request runs under the database lock: the simulator favours simple, obviously consistent state over
parallel throughput, which the real API (throttled at ~9 req/s) does not offer either.
"""

from __future__ import annotations

import json
import math
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from simulators.ajera import projects as proj
from simulators.ajera.envelope import (
    SUCCESS,
    TRANSACTION_REFUSED,
    Answer,
    ApiFailure,
    answer,
    envelope,
    invalid,
)
from simulators.ajera.records import (
    ENTITIES,
    METHOD_VERSIONS,
    PAGING_ARGS,
    STORED_LEN,
    VENDOR_TYPE_FILTERS,
    EntitySpec,
    Record,
    canonical_stamp,
    check_filter,
    full_name,
    is_int,
    parse_stamp,
    render_contact_refs,
    render_stamp,
    stored_stamp,
    unknown_fields,
    validate_fields,
    with_defaults,
)
from simulators.credentials import AJERA_API_ID, PASSWORD, USERNAME
from simulators.store import Database, Table

DEFAULT_SETTINGS: dict[str, Any] = {
    "api_id": AJERA_API_ID,
    "username": USERNAME,
    "password": PASSWORD,
    "session_seconds": 3600,
    "company_name": "Ajera Simulator",
    "ajera_version": "9.90.02",
    "max_employee_keys": 50,
    # ResponseCode of a successful non-session call: 200 as the docs show, or 0 as sbo-inc/ajera 0.5.0
    # reports from live tenants (the reference's open question 1). CreateAPISession answers 200 either way.
    "success_code": 200,
    # The tenant's zone, in which LastModifiedDate is written ("... GMT-05:00 (Eastern Standard Time)").
    "utc_offset_minutes": -300,
    "zone_name": "Eastern Standard Time",
}

# Tables besides the five entities: a project's children, templates and timesheets.
CHILD_TABLES = {
    "InvoiceGroups": "InvoiceGroupKey",
    "Phases": "PhaseKey",
    "Resources": "ResourceKey",
    "ProjectTemplates": "ProjectTemplateKey",
    "Timesheets": "TimesheetKey",
    # A project's v1 Contacts[] (CONTACTREF rows), one row per project: {ProjectKey, Contacts}. Kept apart
    # from the project row because the v2 shape lists no Contacts (whether v2 has them is unknown).
    "ProjectContacts": "ProjectKey",
}
# Entities whose records hold a Contacts[] list (CONTACTREF rows).
CONTACT_HOLDERS = ("Clients", "Employees", "Vendors")


@dataclass
class ApiSession:
    version: int
    expires_at: float  # epoch seconds


class AjeraService:
    def __init__(
        self,
        db: Database,
        settings: dict[str, Any] | None = None,
        seed: dict[str, list[Record]] | None = None,
        count: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self._count = count or (lambda _name: None)
        self.sessions: dict[str, ApiSession] = {}
        self.tables: dict[str, Table] = {name: db.table(name, spec.key) for name, spec in ENTITIES.items()}
        for name, key in CHILD_TABLES.items():
            self.tables[name] = db.table(name, key)
        if seed and all(len(t) == 0 for t in self.tables.values()):
            self._load_seed(seed)
        self._last_ms = {
            name: max((parse_stamp(r.get("LastModifiedDate")) or 0 for r in self.tables[name].all()), default=0)
            for name in ENTITIES
        }
        self.projects = proj.ProjectStore(self)

    # --- set-up ------------------------------------------------------------------------------------

    def _load_seed(self, seed: dict[str, list[Record]]) -> None:
        unknown = set(seed) - set(self.tables)
        if unknown:
            raise ValueError(f"unknown seed tables: {sorted(unknown)}")
        now = stored_stamp(int(time.time() * 1000))
        links: dict[int, list[int]] = {}  # client key -> contact keys given as ContactClientKey in the seed
        for name, rows in seed.items():
            prepared = []
            for row in rows:
                row = dict(row)
                if name == "Contacts" and row.get("ContactClientKey") is not None:
                    links.setdefault(row["ContactClientKey"], []).append(row["ContactKey"])
                if name in ENTITIES:
                    spec = ENTITIES[name]
                    for derived in spec.derived:
                        row.pop(derived, None)
                    bad = unknown_fields(spec.fields, spec.key, row)
                    if bad:
                        raise ValueError(f"seed {name} {row.get(spec.key)}: fields the reference does not list: {bad}")
                    row = with_defaults(spec.fields, row)
                    # Canonical UTC stamps compare correctly as text, which keeps date filters a cheap scan.
                    row["LastModifiedDate"] = canonical_stamp(row.get("LastModifiedDate")) or now
                else:
                    row = proj.seed_child(name, row)
                prepared.append(row)
            self.tables[name].put_many(prepared)
        for client_key, contact_keys in links.items():
            client = self.tables["Clients"].get(client_key)
            if client is None:
                raise ValueError(f"seed contact refers to unknown client {client_key}")
            listed = {ref["ContactKey"] for ref in client.get("Contacts") or []}
            extra = [{"ContactKey": k, "Order": len(listed) + i + 1} for i, k in enumerate(contact_keys)
                     if k not in listed]
            client["Contacts"] = list(client.get("Contacts") or []) + extra
            self.tables["Clients"].put(client, commit=False)
        self.db.commit()

    def expire_sessions(self) -> int:
        with self.db.lock:
            count = len(self.sessions)
            self.sessions.clear()
            return count

    @property
    def success_code(self) -> int:
        return int(self.settings["success_code"])

    # --- dispatch ----------------------------------------------------------------------------------

    def handle(self, query: str, body: bytes) -> dict[str, Any]:
        method = "(none)"
        try:
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                payload = None
            if isinstance(payload, dict) and isinstance(payload.get("Method"), str):
                method = payload["Method"]
            self._count(method)
            if unquote(query) != self.settings["api_id"]:
                raise ApiFailure(404, "Invalid API URL")
            if not isinstance(payload, dict):
                raise ApiFailure(400, "Invalid request: the body must be a JSON object")
            if method == "(none)":
                raise ApiFailure(400, "Invalid request: Method is required")
            with self.db.lock:
                return self._dispatch(method, payload)
        except ApiFailure as failure:
            return envelope(failure.code, failure.message, failure.errors, failure.content)

    def _dispatch(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        if method == "CreateAPISession":
            return envelope(200, SUCCESS, [], self._create_session(payload))
        needs = METHOD_VERSIONS.get(method)
        if needs is None:
            raise ApiFailure(400, f"Unauthorized method: {method}")
        session = self._session(payload.get("SessionToken"))
        if needs != "both" and int(needs) != session.version:
            raise ApiFailure(
                400, f"Unauthorized method {method} for api version {session.version} but is supported with "
                     f"api version {needs}")
        if method == "EndAPISession":
            self.sessions.pop(payload["SessionToken"], None)
            return envelope(self.success_code, SUCCESS, [], {})
        arguments = payload.get("MethodArguments")
        if arguments is None:
            raise invalid(["MethodArguments is required (it can be {})"])
        if not isinstance(arguments, dict):
            raise invalid(["MethodArguments must be an object"])
        message, errors, content = self._handler(method, session.version)(arguments)
        return envelope(self.success_code, message, errors, content)

    def _handler(self, method: str, version: int) -> Callable[[dict[str, Any]], Answer]:
        p = self.projects
        fixed: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "ListProjects": lambda a: self._list(ENTITIES["Projects"], a),
            "GetProjects": p.get_v2 if version == 2 else p.get_v1,
            "CreateProjects": p.create,
            "UpdateProjects": p.update,
            "ListProjectTemplates": p.list_templates,
            "GetProjectTemplates": p.get_templates,
            "GetProjectTotals": p.totals,
            "GetProjectsWithResources": p.get_with_resources,
            "ListTimesheets": p.list_timesheets,
            "ListVendorTypes": self._list_vendor_types,
            "GetTimesheets": p.get_timesheets,
        }
        if method in fixed:
            return fixed[method]
        for verb, fn in (("List", self._list), ("Get", self._get), ("Update", self._update)):
            if method.startswith(verb) and method[len(verb):] in ENTITIES:
                spec = ENTITIES[method[len(verb):]]
                return lambda args, fn=fn, spec=spec: fn(spec, args)  # type: ignore[misc]
        raise ApiFailure(400, f"Unauthorized method: {method}")

    # --- sessions ----------------------------------------------------------------------------------

    def _create_session(self, payload: dict[str, Any]) -> dict[str, Any]:
        version = payload.get("APIVersion", 1)
        if version not in (1, 2) or isinstance(version, bool):
            raise invalid([f"APIVersion must be 1 or 2 (got {version!r})"])
        ok_user = secrets.compare_digest(str(payload.get("Username", "")), str(self.settings["username"]))
        ok_pass = secrets.compare_digest(str(payload.get("Password", "")), str(self.settings["password"]))
        if not (ok_user and ok_pass):
            raise ApiFailure(401, "Unable to authenticate user", ["Unable to authenticate user"])
        token = str(uuid.uuid4())
        expires_at = time.time() + float(self.settings["session_seconds"])
        self.sessions[token] = ApiSession(version, expires_at)
        offset = timedelta(minutes=int(self.settings["utc_offset_minutes"]))
        expires = datetime.fromtimestamp(expires_at, tz=timezone(offset))
        return {
            "SessionToken": token,
            "SessionExpiration": expires.isoformat(timespec="microseconds"),
            "CompanyName": self.settings["company_name"],
            "AjeraVersion": self.settings["ajera_version"],
            "APIURL": f"AjeraAPI.ashx?{self.settings['api_id']}",
            "UsingICRMobile": False,
        }

    def _session(self, token: Any) -> ApiSession:
        session = self.sessions.get(token) if isinstance(token, str) else None
        if session is None:
            raise ApiFailure(401, "Invalid Session", ["Invalid Session"])
        if time.time() >= session.expires_at:
            del self.sessions[token]
            raise ApiFailure(401, "Invalid Session", ["Invalid Session"])
        return session

    # --- dates -------------------------------------------------------------------------------------

    def render_date(self, stored: str | None) -> str | None:
        return render_stamp(stored, int(self.settings["utc_offset_minutes"]), str(self.settings["zone_name"]))

    def stamp(self, table: str) -> str:
        now_ms = int(time.time() * 1000)
        stamp = max(now_ms, self._last_ms.get(table, 0) + 1)
        self._last_ms[table] = stamp
        return stored_stamp(stamp)

    # --- rendering ---------------------------------------------------------------------------------

    def contact_links(self) -> dict[str, dict[int, int]]:
        """Contact key -> key of the client (vendor) whose Contacts[] lists it (the lowest, if several)."""
        links: dict[str, dict[int, int]] = {"Clients": {}, "Vendors": {}}
        for plural, found in links.items():
            key_field = ENTITIES[plural].key
            for row in sorted(self.tables[plural].all(), key=lambda r: r[key_field]):
                for ref in row.get("Contacts") or []:
                    found.setdefault(ref.get("ContactKey"), row[key_field])
        return links

    def renderer(self, spec: EntitySpec) -> Callable[[Record], Record]:
        """A function that turns a stored row into what the API returns (derived fields filled in)."""
        contacts = {r["ContactKey"]: r for r in self.tables["Contacts"].all()} \
            if spec.plural in (*CONTACT_HOLDERS, "Contacts") else {}

        def contact_refs(refs: list[Record]) -> list[Record]:
            return render_contact_refs(refs, contacts)

        if spec.plural == "Contacts":
            links = self.contact_links()
            names = {plural: {r[ENTITIES[plural].key]: ENTITIES[plural].name_of(r) for r in self.tables[plural].all()}
                     for plural in ("Clients", "Vendors")}

            def contact(row: Record) -> Record:
                out = self._dated(row)
                client = links["Clients"].get(row["ContactKey"])
                vendor = links["Vendors"].get(row["ContactKey"])
                out["ContactClientKey"] = client
                out["ContactClientDescription"] = names["Clients"].get(client) if client else None
                out["ContactVendorKey"] = vendor
                out["ContactVendorDescription"] = names["Vendors"].get(vendor) if vendor else None
                return out

            return contact
        if spec.plural == "Projects":
            people = self.projects.people()
            return lambda row: self.projects.render_project(row, people)

        def holder(row: Record) -> Record:
            out = self._dated(row)
            if "Contacts" in spec.fields:
                out["Contacts"] = contact_refs(row.get("Contacts") or [])
            return out

        return holder

    def _dated(self, row: Record) -> Record:
        out = dict(row)
        out["LastModifiedDate"] = self.render_date(row.get("LastModifiedDate"))
        return out

    def comparable(self, spec: EntitySpec | None, record: Record) -> Record:
        """The part of a record that decides staleness and no-ops: derived values left out, references by
        key only, dates in one form."""
        derived = set(spec.derived) if spec else set()
        out = {k: v for k, v in record.items() if k not in derived}
        for name, value in list(out.items()):
            if isinstance(value, dict) and "EmployeeKey" in value:
                out[name] = {"EmployeeKey": value.get("EmployeeKey")}
        if isinstance(out.get("Contacts"), (list, dict)):
            refs = out["Contacts"] if isinstance(out["Contacts"], list) else [out["Contacts"]]
            out["Contacts"] = sorted((r.get("ContactKey"), r.get("Order", 0), r.get("Text", "")) for r in refs)
        if isinstance(out.get("LastModifiedDate"), str):
            out["LastModifiedDate"] = canonical_stamp(out["LastModifiedDate"]) or out["LastModifiedDate"]
        return out

    # --- List --------------------------------------------------------------------------------------

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

    # --- Get ---------------------------------------------------------------------------------------

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

    # --- Update (v1: Clients, Contacts, Employees, Vendors) -----------------------------------------

    def _update(self, spec: EntitySpec, args: dict[str, Any]) -> Answer:
        updated = args.get(f"Updated{spec.plural}")
        unchanged = args.get(f"Unchanged{spec.plural}", [])
        single = args.get("UseSingleTransaction", False)
        problems: list[str] = []
        unknown_args = sorted(set(args) - {f"Updated{spec.plural}", f"Unchanged{spec.plural}", "UseSingleTransaction"})
        if unknown_args:
            problems.append(f"Update{spec.plural} takes no {', '.join(unknown_args)}")
        if not isinstance(updated, list) or not all(isinstance(r, dict) for r in updated):
            problems.append(f"Updated{spec.plural} must be a list of {spec.singular} records")
        if not isinstance(unchanged, list) or not all(isinstance(r, dict) for r in unchanged):
            problems.append(f"Unchanged{spec.plural} must be a list of {spec.singular} records")
        if not isinstance(single, bool):
            problems.append("UseSingleTransaction must be true or false")
        if problems:
            raise invalid(problems)
        baselines: dict[int, Record] = {}
        for base in unchanged:
            key = base.get(spec.key)
            if not is_int(key) or key <= 0:
                problems.append(f"Unchanged{spec.plural}: {spec.key} must be a positive integer (got {key!r})")
            elif key in baselines:
                problems.append(f"{spec.singular} {key}: appears twice in Unchanged{spec.plural}")
            else:
                baselines[key] = base
        if problems:
            raise invalid(problems)
        plans, refusals = self.plan_writes(spec, updated, baselines)
        if single and refusals:
            raise ApiFailure(400, TRANSACTION_REFUSED, refusals)
        saved = self.save(spec, plans)
        return answer(refusals, {spec.plural: saved, f"NumberOf{spec.plural}Updated": len(saved)})

    def plan_writes(self, spec: EntitySpec, updated: list[Record],
                    baselines: dict[int, Record]) -> tuple[list[tuple[int, Record]], list[str]]:
        table = self.tables[spec.plural]
        render = self.renderer(spec)
        writable = spec.writable
        refusals: list[str] = []
        plans: list[tuple[int, Record]] = []  # (key as sent, record to store)
        seen: set[int] = set()
        claimed_names: dict[str, int] = {}  # contact names taken by earlier records of this batch
        contact_names = {self._name_key(r): r["ContactKey"] for r in self.tables["Contacts"].all()} \
            if spec.plural == "Contacts" else {}
        for rec in updated:
            key = rec.get(spec.key)
            label = f"{spec.singular} {key}"
            if not is_int(key) or key == 0:
                refusals.append(f"{spec.singular} ?: {spec.key} must be a non-zero integer (got {key!r})")
                continue
            if key in seen:
                refusals.append(f"{label}: appears twice in Updated{spec.plural}")
                continue
            seen.add(key)
            unknown = unknown_fields(spec.fields, spec.key, rec)
            if unknown:
                refusals.append(f"{label}: unknown fields {', '.join(unknown)}")
                continue
            changes = {k: v for k, v in rec.items() if k in writable or k.startswith("CF_")}
            if key < 0:
                new = with_defaults(spec.fields, {spec.key: key, **changes})
                current = None
            else:
                stored = table.get(key)
                if stored is None:
                    refusals.append(f"{label}: not found")
                    continue
                base = baselines.get(key)
                if base is None:
                    refusals.append(f"{label}: no baseline in Unchanged{spec.plural}")
                    continue
                current = render(stored)
                if self.comparable(spec, base) != self.comparable(spec, current):
                    refusals.append(f"{label}: Record has been modified since it was read")
                    continue
                if spec.plural == "Contacts" and "ContactClientKey" in rec \
                        and rec["ContactClientKey"] != current.get("ContactClientKey"):
                    refusals.append(f"{label}: ContactClientKey cannot be written; list the contact in the "
                                    "client's Contacts")
                    continue
                new = {**stored, **changes}
                if self.comparable(spec, new) == self.comparable(spec, stored):
                    refusals.append(f"{label}: No changes")
                    continue
            record_problems = validate_fields(spec.fields, label, new) + self.check_refs(spec.fields, label, new)
            if current is None and rec.get("ContactClientKey") is not None:
                record_problems.append(f"{label}: ContactClientKey cannot be written; list the contact in the "
                                       "client's Contacts")
            if spec.plural == "Contacts" and not record_problems:
                name = self._name_key(new)
                owner = claimed_names.get(name, contact_names.get(name))
                if owner is not None and owner != key:
                    record_problems.append(
                        f"{label}: a contact named {full_name(new)!r} already exists (ContactKey {owner})")
                else:
                    claimed_names[name] = key
            if record_problems:
                refusals.extend(record_problems)
                continue
            plans.append((key, new))
        return plans, refusals

    def save(self, spec: EntitySpec, plans: list[tuple[int, Record]]) -> list[Record]:
        table = self.tables[spec.plural]
        next_key = table.max_int_key() + 1
        stamp = self.stamp(spec.plural)
        links_before = self.contact_links()["Clients"] if spec.plural == "Clients" and plans else {}
        for original_key, new in plans:
            if original_key < 0:
                new[spec.key] = next_key
                next_key += 1
            new["LastModifiedDate"] = stamp
            if spec.plural == "Clients":
                self._take_contacts(new, stamp)
            table.put(new, commit=False)
        if links_before:
            self._touch_moved_contacts(links_before)
        self.db.commit()
        render = self.renderer(spec)
        saved = []
        for original_key, new in plans:
            out = render(new)
            out[spec.original_key] = original_key
            saved.append(out)
        return saved

    def _touch_moved_contacts(self, before: dict[int, int]) -> None:
        """A contact whose client changed shows a new ContactClientKey: its LastModifiedDate moves too, so a
        reader that asks for what changed sees it."""
        after = self.contact_links()["Clients"]
        moved = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if not moved:
            return
        stamp = self.stamp("Contacts")
        contacts = self.tables["Contacts"]
        for key in moved:
            row = contacts.get(key)
            if row is not None:
                contacts.put({**row, "LastModifiedDate": stamp}, commit=False)

    def _take_contacts(self, client: Record, stamp: str) -> None:
        """A contact belongs to one client: listing it on this client removes it from any other."""
        mine = {ref.get("ContactKey") for ref in client.get("Contacts") or []}
        if not mine:
            return
        table = self.tables["Clients"]
        for other in list(table.all()):
            if other["ClientKey"] == client["ClientKey"]:
                continue
            kept = [ref for ref in other.get("Contacts") or [] if ref.get("ContactKey") not in mine]
            if len(kept) != len(other.get("Contacts") or []):
                table.put({**other, "Contacts": kept, "LastModifiedDate": stamp}, commit=False)

    def check_refs(self, fields: dict[str, Any], label: str, record: Record) -> list[str]:
        problems = []
        for name, fs in fields.items():
            value = record.get(name)
            if fs.ref is None or value is None:
                continue
            ref_key = value.get("EmployeeKey") if isinstance(value, dict) else value
            if not self.tables[fs.ref].exists(ref_key):
                problems.append(f"{label}: {name} refers to unknown {fs.ref[:-1]} {ref_key}")
        if isinstance(record.get("Contacts"), (list, dict)):
            refs = record["Contacts"] if isinstance(record["Contacts"], list) else [record["Contacts"]]
            record["Contacts"] = [{k: ref[k] for k in ("ContactKey", "Order", "Text") if k in ref} for ref in refs]
            for ref in refs:
                if not self.tables["Contacts"].exists(ref.get("ContactKey")):
                    problems.append(f"{label}: Contacts refers to unknown Contact {ref.get('ContactKey')}")
        return problems

    @staticmethod
    def _name_key(row: Record) -> str:
        return " ".join(full_name(row).casefold().split())

