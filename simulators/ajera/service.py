"""The stateful core of the Ajera simulator: sessions, method dispatch, lists, gets and writes.

It speaks in plain dicts (request payload in, response envelope out) so the FastAPI layer stays thin.
Every request runs under the database lock: the simulator favours simple, obviously consistent state over
parallel throughput, which the real API (throttled at ~9 req/s) does not offer either.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import unquote

from simulators.ajera.records import (
    COMMON_FILTERS,
    DATE_FORMAT_LEN,
    ENTITIES,
    PAGING_ARGS,
    PROJECT_METHODS,
    EntitySpec,
    Record,
    _is_int,
    canonical_stamp,
    format_stamp,
    full_name,
    list_item,
    parse_stamp,
    validate_fields,
)
from simulators.store import Database, Table

INVALID_DATA = "One or more properties contain invalid data"
SUCCESS = "Success"
SUCCESS_WITH_ERRORS = "Success with errors"
TRANSACTION_REFUSED = "One or more records were refused; no changes were saved"

DEFAULT_SETTINGS: dict[str, Any] = {
    "api_id": base64.b64encode(b"ajera-sim:1").decode(),
    "username": "sync",
    "password": "sync-password",
    "session_seconds": 3600,
    "company_name": "Ajera Simulator",
    "ajera_version": "9.0.0",
    "max_employee_keys": 50,
}

# Child tables of a project, loaded from the seed and written by CreateProjects.
CHILD_TABLES = {
    "InvoiceGroups": "InvoiceGroupKey",
    "Phases": "PhaseKey",
    "Resources": "ResourceKey",
    "ProjectTemplates": "ProjectTemplateKey",
}

# Rates used to derive GetProjectTotals from a project's resources and budgets; the simulator keeps no
# ledger, so totals are a deterministic function of what it does store.
LABOR_COST_PER_HOUR = 85.0
CONSULTANT_COST_PER_HOUR = 120.0
EXPENSE_SHARE_OF_BUDGET = 0.35
BILLING_MULTIPLIER = 1.25
RECEIVED_SHARE = 0.8
WIP_SHARE = 0.1


class ApiFailure(Exception):
    def __init__(self, code: int, message: str, errors: list[str] | None = None, content: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors or []
        self.content = content


@dataclass
class ApiSession:
    version: int
    expires_at: float  # epoch seconds


def envelope(code: int, message: str, errors: list[str], content: Any) -> dict[str, Any]:
    return {
        "ResponseCode": code,
        "Message": message,
        "Errors": [{"ErrorID": i, "ErrorMessage": text} for i, text in enumerate(errors, start=1)],
        "Content": content if content is not None else {},
        "UsageKey": str(uuid.uuid4()),
    }


def _invalid(errors: list[str]) -> ApiFailure:
    return ApiFailure(400, INVALID_DATA, errors)


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
        self._contact_names: dict[str, int] = {}
        for row in self.tables["Contacts"].all():
            self._contact_names[self._name_key(row)] = row["ContactKey"]

    # --- set-up ------------------------------------------------------------------------------------

    def _load_seed(self, seed: dict[str, list[Record]]) -> None:
        unknown = set(seed) - set(self.tables)
        if unknown:
            raise ValueError(f"unknown seed tables: {sorted(unknown)}")
        now = format_stamp(int(time.time() * 1000))
        for name, rows in seed.items():
            prepared = []
            for row in rows:
                row = dict(row)
                if name in ENTITIES:
                    # Canonical UTC stamps compare correctly as text, which keeps date filters a cheap scan.
                    row["LastModifiedDate"] = canonical_stamp(row.get("LastModifiedDate")) or now
                    row.pop("Company", None)  # derived on read
                prepared.append(row)
            self.tables[name].put_many(prepared)

    @staticmethod
    def _name_key(row: Record) -> str:
        return " ".join(full_name(row).casefold().split())

    def expire_sessions(self) -> int:
        with self.db.lock:
            count = len(self.sessions)
            self.sessions.clear()
            return count

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
        handler = self._handler(method)
        if handler is None:
            raise ApiFailure(400, f"Unknown method: {method}")
        session = self._session(payload.get("SessionToken"))
        if method in PROJECT_METHODS and session.version < 2:
            raise ApiFailure(400, f"Unauthorized method: {method} (requires an APIVersion 2 session)")
        if method == "EndAPISession":
            self.sessions.pop(payload["SessionToken"], None)
            return envelope(200, SUCCESS, [], {})
        arguments = payload.get("MethodArguments") or {}
        if not isinstance(arguments, dict):
            raise _invalid(["MethodArguments must be an object"])
        code, message, errors, content = handler(arguments)
        return envelope(code, message, errors, content)

    def _handler(self, method: str) -> Callable[[dict[str, Any]], tuple[int, str, list[str], Any]] | None:
        if method == "EndAPISession":
            return lambda _args: (200, SUCCESS, [], {})
        fixed = {
            "CreateProjects": self._create_project,
            "ListProjectTemplates": self._list_templates,
            "GetProjectTotals": self._project_totals,
        }
        if method in fixed:
            return fixed[method]
        for verb, fn in (("List", self._list), ("Get", self._get), ("Update", self._update)):
            if method.startswith(verb) and method[len(verb) :] in ENTITIES:
                spec = ENTITIES[method[len(verb) :]]
                return lambda args, fn=fn, spec=spec: fn(spec, args)  # type: ignore[misc]
        return None

    # --- sessions ----------------------------------------------------------------------------------

    def _create_session(self, payload: dict[str, Any]) -> dict[str, Any]:
        version = payload.get("APIVersion", 1)
        if version not in (1, 2) or isinstance(version, bool):
            raise _invalid([f"APIVersion must be 1 or 2 (got {version!r})"])
        ok_user = secrets.compare_digest(str(payload.get("Username", "")), str(self.settings["username"]))
        ok_pass = secrets.compare_digest(str(payload.get("Password", "")), str(self.settings["password"]))
        if not (ok_user and ok_pass):
            raise ApiFailure(401, "Unable to authenticate user")
        token = str(uuid.uuid4())
        expires_at = time.time() + float(self.settings["session_seconds"])
        self.sessions[token] = ApiSession(version, expires_at)
        return {
            "SessionToken": token,
            "CompanyName": self.settings["company_name"],
            "AjeraVersion": self.settings["ajera_version"],
            "APIVersion": version,
            "SessionExpiration": format_stamp(int(expires_at * 1000)),
        }

    def _session(self, token: Any) -> ApiSession:
        session = self.sessions.get(token) if isinstance(token, str) else None
        if session is None:
            raise ApiFailure(401, "Invalid Session")
        if time.time() >= session.expires_at:
            del self.sessions[token]
            raise ApiFailure(401, "Invalid Session")
        return session

    # --- rendering ---------------------------------------------------------------------------------

    def _column(self, table: str, field: str) -> dict[int, Any]:
        key = self.tables[table].key_field
        return {row[key]: row.get(field) for row in self.tables[table].all()}

    def _renderer(self, spec: EntitySpec) -> Callable[[Record], Record]:
        """A function that turns a stored row into what the API returns (derived fields filled in)."""
        if spec.plural == "Contacts":
            firms = self._column("Clients", "Description")

            def contact(row: Record) -> Record:
                out = dict(row)
                out["Company"] = firms.get(row.get("ClientKey"))
                return out

            return contact
        if spec.plural == "Projects":
            people = {r["EmployeeKey"]: r for r in self.tables["Employees"].all()}

            def project(row: Record) -> Record:
                out = dict(row)
                for role in ("ProjectManager", "PrincipalInCharge"):
                    ref = row.get(role)
                    if isinstance(ref, dict) and ref.get("EmployeeKey") in people:
                        emp = people[ref["EmployeeKey"]]
                        out[role] = {
                            "EmployeeKey": emp["EmployeeKey"],
                            "FirstName": emp.get("FirstName"),
                            "MiddleName": emp.get("MiddleName"),
                            "LastName": emp.get("LastName"),
                        }
                    elif isinstance(ref, dict):
                        out[role] = dict(ref)
                return out

            return project
        return dict

    @staticmethod
    def _comparable(spec: EntitySpec, record: Record) -> Record:
        """The part of a record that decides staleness and no-ops: derived values left out."""
        out = {k: v for k, v in record.items() if k not in spec.derived}
        for role in ("ProjectManager", "PrincipalInCharge"):
            if spec.plural == "Projects" and isinstance(out.get(role), dict):
                out[role] = {"EmployeeKey": out[role].get("EmployeeKey")}
        if isinstance(out.get("LastModifiedDate"), str):
            out["LastModifiedDate"] = canonical_stamp(out["LastModifiedDate"]) or out["LastModifiedDate"]
        return out

    def _stamp(self, table: str) -> str:
        now_ms = int(time.time() * 1000)
        stamp = max(now_ms, self._last_ms.get(table, 0) + 1)
        self._last_ms[table] = stamp
        return format_stamp(stamp)

    # --- List --------------------------------------------------------------------------------------

    def _list(self, spec: EntitySpec, args: dict[str, Any]) -> tuple[int, str, list[str], Any]:
        allowed = COMMON_FILTERS | spec.filters | PAGING_ARGS
        problems = [f"{name} is not a filter of List{spec.plural}" for name in args if name not in allowed]
        preds: list[Callable[[Record], bool]] = []

        statuses = args.get("FilterByStatus")
        if statuses is not None:
            if isinstance(statuses, str):
                statuses = [statuses]
            choices = spec.fields["Status"].choices or ()
            if not isinstance(statuses, list) or any(s not in choices for s in statuses):
                problems.append(f"FilterByStatus must be a list of {', '.join(choices)} (got {statuses!r})")
            else:
                wanted = set(statuses)
                preds.append(lambda r: r.get("Status") in wanted)
        company = args.get("FilterByCompany")
        if company is not None:
            if not _is_int(company):
                problems.append(f"FilterByCompany must be a client key (got {company!r})")
            else:
                preds.append(lambda r: r.get("ClientKey") == company)
        sync = args.get("FilterBySyncToCRM")
        if sync is not None:
            if not isinstance(sync, bool):
                problems.append(f"FilterBySyncToCRM must be true or false (got {sync!r})")
            else:
                preds.append(lambda r: bool(r.get("SyncToCRM")) == sync)
        like = args.get("FilterByNameLike")
        if like is not None:
            if not isinstance(like, str):
                problems.append("FilterByNameLike must be a string")
            else:
                needle = like.casefold()
                preds.append(lambda r: needle in spec.name_of(r).casefold())
        for arg in ("FilterByNameEquals", "FilterByDescriptionEquals"):
            equals = args.get(arg)
            if equals is None:
                continue
            if not isinstance(equals, str):
                problems.append(f"{arg} must be a string")
            else:
                target = equals.strip().casefold()
                preds.append(lambda r, t=target: spec.name_of(r).strip().casefold() == t)
        for arg, inclusive_low in (("FilterByEarliestModifiedDate", True), ("FilterByLatestModifiedDate", False)):
            raw = args.get(arg)
            if raw is None:
                continue
            bound = canonical_stamp(raw)
            if bound is None:
                problems.append(f'{arg} must be a date like "2015-03-11 16:22:54.229 GMT-0000" (got {raw!r})')
                continue
            bound = bound[:DATE_FORMAT_LEN]
            if inclusive_low:
                preds.append(lambda r, b=bound: (r.get("LastModifiedDate") or "")[:DATE_FORMAT_LEN] >= b)
            else:
                preds.append(lambda r, b=bound: (r.get("LastModifiedDate") or "")[:DATE_FORMAT_LEN] < b)

        page_size = page_number = None
        if args.get("PageResults"):
            page_size, page_number = args.get("PageSize", 100), args.get("PageNumber", 1)
            if not _is_int(page_size) or page_size < 1:
                problems.append(f"PageSize must be a positive integer (got {page_size!r})")
            if not _is_int(page_number) or page_number < 1:
                problems.append(f"PageNumber must be a positive integer, 1 = first page (got {page_number!r})")
        if problems:
            raise _invalid(problems)

        rows = [r for r in self.tables[spec.plural].all() if all(p(r) for p in preds)]
        rows.sort(key=lambda r: r[spec.key])
        content: dict[str, Any] = {}
        if page_size is not None and page_number is not None:
            content["PageCount"] = max(1, math.ceil(len(rows) / page_size))
            rows = rows[(page_number - 1) * page_size : page_number * page_size]
        render = self._renderer(spec) if spec.derived else (lambda r: r)
        content[spec.plural] = [list_item(spec, render(r)) for r in rows]
        return 200, SUCCESS, [], content

    # --- Get ---------------------------------------------------------------------------------------

    def _requested_keys(self, spec: EntitySpec, args: dict[str, Any]) -> list[int]:
        arg = f"Requested{spec.plural}"
        keys = args.get(arg)
        if not isinstance(keys, list) or not all(_is_int(k) for k in keys):
            raise _invalid([f"{arg} must be a list of integer {spec.key}s"])
        return list(dict.fromkeys(keys))

    def _get(self, spec: EntitySpec, args: dict[str, Any]) -> tuple[int, str, list[str], Any]:
        keys = self._requested_keys(spec, args)
        limit = int(self.settings["max_employee_keys"])
        if spec.plural == "Employees" and len(keys) > limit:
            raise ApiFailure(-100, f"GetEmployees accepts at most {limit} keys per call (got {len(keys)})")
        table = self.tables[spec.plural]
        render = self._renderer(spec)
        found: list[Record] = []
        errors: list[str] = []
        for key in keys:
            row = table.get(key)
            if row is None:
                errors.append(f"{spec.singular} {key}: not found")
            else:
                found.append(render(row))
        content: dict[str, Any] = {spec.plural: found}
        if spec.plural == "Projects":
            wanted = {r["ProjectKey"] for r in found}
            for child in ("InvoiceGroups", "Phases", "Resources"):
                rows = [dict(r) for r in self.tables[child].all() if r.get("ProjectKey") in wanted]
                rows.sort(key=lambda r, k=CHILD_TABLES[child]: r[k])
                content[child] = rows
        return 200, (SUCCESS_WITH_ERRORS if errors else SUCCESS), errors, content

    # --- Update ------------------------------------------------------------------------------------

    def _update(self, spec: EntitySpec, args: dict[str, Any]) -> tuple[int, str, list[str], Any]:
        updated = args.get(f"Updated{spec.plural}")
        unchanged = args.get(f"Unchanged{spec.plural}", [])
        single = args.get("UseSingleTransaction", False)
        problems: list[str] = []
        if not isinstance(updated, list) or not all(isinstance(r, dict) for r in updated):
            problems.append(f"Updated{spec.plural} must be a list of {spec.singular} records")
        if not isinstance(unchanged, list) or not all(isinstance(r, dict) for r in unchanged):
            problems.append(f"Unchanged{spec.plural} must be a list of {spec.singular} records")
        if not isinstance(single, bool):
            problems.append("UseSingleTransaction must be true or false")
        if problems:
            raise _invalid(problems)
        baselines: dict[int, Record] = {}
        for base in unchanged:
            key = base.get(spec.key)
            if not _is_int(key) or key <= 0:
                problems.append(f"Unchanged{spec.plural}: {spec.key} must be a positive integer (got {key!r})")
            elif key in baselines:
                problems.append(f"{spec.singular} {key}: appears twice in Unchanged{spec.plural}")
            else:
                baselines[key] = base
        if problems:
            raise _invalid(problems)

        table = self.tables[spec.plural]
        render = self._renderer(spec)
        writable = set(spec.fields)
        accepted_fields = writable | {spec.key, "LastModifiedDate", *spec.derived}
        refusals: list[str] = []
        plans: list[tuple[int, Record]] = []  # (key as sent, record to store)
        seen: set[int] = set()
        claimed_names: dict[str, int] = {}  # contact names taken by earlier records of this batch

        for rec in updated:
            key = rec.get(spec.key)
            label = f"{spec.singular} {key}"
            if not _is_int(key) or key == 0:
                refusals.append(f"{spec.singular} ?: {spec.key} must be a non-zero integer (got {key!r})")
                continue
            if key in seen:
                refusals.append(f"{label}: appears twice in Updated{spec.plural}")
                continue
            seen.add(key)
            unknown = sorted(set(rec) - accepted_fields)
            if unknown:
                refusals.append(f"{label}: unknown fields {', '.join(unknown)}")
                continue
            changes = {k: v for k, v in rec.items() if k in writable}
            if key < 0:
                if spec.plural == "Projects":
                    refusals.append(f"{label}: projects are created with CreateProjects, not UpdateProjects")
                    continue
                new = {spec.key: key, **{n: fs.default for n, fs in spec.fields.items()}, **changes}
            else:
                stored = table.get(key)
                if stored is None:
                    refusals.append(f"{label}: not found")
                    continue
                base = baselines.get(key)
                if base is None:
                    refusals.append(f"{label}: no baseline in Unchanged{spec.plural}")
                    continue
                if self._comparable(spec, base) != self._comparable(spec, render(stored)):
                    refusals.append(f"{label}: Record has been modified since it was read")
                    continue
                new = {**stored, **changes}
                if self._comparable(spec, new) == self._comparable(spec, stored):
                    refusals.append(f"{label}: No changes")
                    continue
            record_problems = validate_fields(spec, key, new) + self._check_refs(spec, key, new)
            if spec.plural == "Contacts" and not record_problems:
                name = self._name_key(new)
                owner = claimed_names.get(name, self._contact_names.get(name))
                if owner is not None and owner != key:
                    record_problems.append(
                        f"{label}: a contact named {full_name(new)!r} already exists (ContactKey {owner})"
                    )
                else:
                    claimed_names[name] = key
            if record_problems:
                refusals.extend(record_problems)
                continue
            plans.append((key, new))

        if single and refusals:
            raise ApiFailure(400, TRANSACTION_REFUSED, refusals)
        saved: list[Record] = []
        next_key = table.max_int_key() + 1
        for original_key, new in plans:
            if original_key < 0:
                new[spec.key] = next_key
                next_key += 1
            new["LastModifiedDate"] = self._stamp(spec.plural)
            if spec.plural == "Contacts":
                old = table.get(new["ContactKey"])
                if old is not None:
                    self._contact_names.pop(self._name_key(old), None)
                self._contact_names[self._name_key(new)] = new["ContactKey"]
            table.put(new, commit=False)
            out = render(new)
            out[spec.original_key] = original_key
            saved.append(out)
        self.db.commit()
        content = {spec.plural: saved, f"NumberOf{spec.plural}Updated": len(saved)}
        return 200, (SUCCESS_WITH_ERRORS if refusals else SUCCESS), refusals, content

    def _check_refs(self, spec: EntitySpec, key: Any, record: Record) -> list[str]:
        problems = []
        for name, fs in spec.fields.items():
            value = record.get(name)
            if fs.ref is None or value is None:
                continue
            ref_key = value.get("EmployeeKey") if isinstance(value, dict) else value
            if not self.tables[fs.ref].exists(ref_key):
                problems.append(f"{spec.singular} {key}: {name} refers to unknown {fs.ref[:-1]} {ref_key}")
        return problems

    # --- projects ----------------------------------------------------------------------------------

    def _next_project_id(self) -> str:
        numbers = [int(r["ID"]) for r in self.tables["Projects"].all() if str(r.get("ID") or "").isdigit()]
        return f"{max(numbers, default=0) + 1:05d}"

    def _create_project(self, args: dict[str, Any]) -> tuple[int, str, list[str], Any]:
        spec = ENTITIES["Projects"]
        problems: list[str] = []
        if args.get("CreateType", "Project") != "Project":
            problems.append(f"CreateType must be \"Project\" (got {args.get('CreateType')!r})")
        project = args.get("Project")
        groups = args.get("InvoiceGroups")
        phases = args.get("Phases")
        if not isinstance(project, dict):
            raise _invalid(problems + ["Project must be an object"])
        if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
            problems.append("InvoiceGroups must list at least one invoice group {Description, ClientKey}")
            groups = []
        if not isinstance(phases, list) or not phases or not all(isinstance(p, dict) for p in phases):
            problems.append("Phases must list at least one phase {ID, Description}")
            phases = []
        unknown = sorted(set(project) - set(spec.fields) - {"ProjectKey", "LastModifiedDate"})
        if unknown:
            problems.append(f"Project (new): unknown fields {', '.join(unknown)}")
        new: Record = {"ProjectKey": None, **{n: fs.default for n, fs in spec.fields.items()}}
        new.update({k: v for k, v in project.items() if k in spec.fields})
        if new.get("ID") in (None, ""):
            new["ID"] = self._next_project_id()
        if new.get("BillingType") in (None, ""):
            problems.append("Project (new): BillingType is required")
        problems += validate_fields(spec, "(new)", new) + self._check_refs(spec, "(new)", new)
        for i, group in enumerate(groups):
            desc = group.get("Description")
            if not isinstance(desc, str) or not desc.strip():
                problems.append(f"InvoiceGroups[{i}]: Description is required")
            elif len(desc) > 80:
                problems.append(f"InvoiceGroups[{i}]: Description must be at most 80 characters")
            client = group.get("ClientKey", new.get("ClientKey"))
            if client is not None and (not _is_int(client) or not self.tables["Clients"].exists(client)):
                problems.append(f"InvoiceGroups[{i}]: ClientKey refers to unknown Client {client!r}")
        for i, phase in enumerate(phases):
            for name in ("ID", "Description"):
                value = phase.get(name)
                if not isinstance(value, str) or not value.strip():
                    problems.append(f"Phases[{i}]: {name} is required")
            if isinstance(phase.get("Description"), str) and len(phase["Description"]) > 80:
                problems.append(f"Phases[{i}]: Description must be at most 80 characters")
        if problems:
            raise _invalid(problems)

        project_key = self.tables["Projects"].max_int_key() + 1
        new["ProjectKey"] = project_key
        new["LastModifiedDate"] = self._stamp("Projects")
        self.tables["Projects"].put(new, commit=False)
        group_key = self.tables["InvoiceGroups"].max_int_key() + 1
        group_keys = []
        for offset, group in enumerate(groups):
            row = {
                "InvoiceGroupKey": group_key + offset,
                "ProjectKey": project_key,
                "ClientKey": group.get("ClientKey", new.get("ClientKey")),
                "Description": group["Description"],
            }
            group_keys.append(row["InvoiceGroupKey"])
            self.tables["InvoiceGroups"].put(row, commit=False)
        phase_key = self.tables["Phases"].max_int_key() + 1
        for offset, phase in enumerate(phases):
            row = {
                "PhaseKey": phase_key + offset,
                "ProjectKey": project_key,
                "InvoiceGroupKey": group_keys[0],
                "ParentKey": None,
                "ID": phase["ID"],
                "Description": phase["Description"],
            }
            self.tables["Phases"].put(row, commit=False)
        self.db.commit()
        saved = self._renderer(spec)(new)
        return 200, SUCCESS, [], {"ProjectKey": project_key, "Projects": [saved]}

    def _list_templates(self, args: dict[str, Any]) -> tuple[int, str, list[str], Any]:
        rows = sorted(self.tables["ProjectTemplates"].all(), key=lambda r: r["ProjectTemplateKey"])
        return 200, SUCCESS, [], {"ProjectTemplates": [dict(r) for r in rows]}

    def _project_totals(self, args: dict[str, Any]) -> tuple[int, str, list[str], Any]:
        keys = self._requested_keys(ENTITIES["Projects"], args)
        projects = self.tables["Projects"]
        wanted = {k for k in keys if projects.exists(k)}
        labor_hours: dict[int, float] = {}
        consultant_hours: dict[int, float] = {}
        for res in self.tables["Resources"].all():
            pk = res.get("ProjectKey")
            if pk not in wanted:
                continue
            bucket = consultant_hours if res.get("Type") == "Vendor" else labor_hours
            bucket[pk] = bucket.get(pk, 0.0) + float(res.get("Hours") or 0)
        out: list[Record] = []
        errors: list[str] = []
        for key in keys:
            row = projects.get(key)
            if row is None:
                errors.append(f"Project {key}: not found")
                continue
            cost_labor = round(labor_hours.get(key, 0.0) * LABOR_COST_PER_HOUR, 2)
            cost_consultant = round(consultant_hours.get(key, 0.0) * CONSULTANT_COST_PER_HOUR, 2)
            cost_expense = round(float(row.get("ExpenseBudget") or 0) * EXPENSE_SHARE_OF_BUDGET, 2)
            billed = [round(c * BILLING_MULTIPLIER, 2) for c in (cost_labor, cost_expense, cost_consultant)]
            out.append(
                {
                    "ProjectKey": key,
                    "Cost Labor": cost_labor,
                    "Cost Expense": cost_expense,
                    "Cost Consultant": cost_consultant,
                    "Billed Labor": billed[0],
                    "Billed Expense": billed[1],
                    "Billed Consultant": billed[2],
                    "Received": round(sum(billed) * RECEIVED_SHARE, 2),
                    "WIP": round((cost_labor + cost_expense + cost_consultant) * WIP_SHARE, 2),
                }
            )
        return 200, (SUCCESS_WITH_ERRORS if errors else SUCCESS), errors, {"Projects": out}
