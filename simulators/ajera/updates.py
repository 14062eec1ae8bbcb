"""Update calls of the simulated Ajera API's v1 entities (Clients, Contacts, Employees, Vendors): the
baselines, each record's refusal or plan, the single-transaction rule, and the save (new keys, stamps, a
contact's single client)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulators.ajera.envelope import TRANSACTION_REFUSED, Answer, ApiFailure, answer, invalid
from simulators.ajera.fields import Record, full_name, is_int, unknown_fields, validate_fields, with_defaults
from simulators.ajera.records import EntitySpec
from simulators.store import Database, Table


class Updates:
    """The Update part of ``AjeraService``."""

    db: Database
    tables: dict[str, Table]

    if TYPE_CHECKING:  # from Rendering, beside this in AjeraService
        def renderer(self, spec: EntitySpec) -> Callable[[Record], Record]: ...
        def comparable(self, spec: EntitySpec | None, record: Record) -> Record: ...
        def contact_links(self) -> dict[str, dict[int, int]]: ...
        def stamp(self, table: str) -> str: ...

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
        render = self.renderer(spec)
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
            new, refusal = self._merged(spec, rec, key, label, baselines, render)
            if new is None:
                refusals.append(refusal)
                continue
            record_problems = self._record_problems(spec, rec, key, label, new)
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

    def _merged(self, spec: EntitySpec, rec: Record, key: int, label: str, baselines: dict[int, Record],
                render: Callable[[Record], Record]) -> tuple[Record | None, str]:
        """The record to store for one entry of Updated<plural> (a negative key: a new one), or None and why
        it is refused."""
        unknown = unknown_fields(spec.fields, spec.key, rec)
        if unknown:
            return None, f"{label}: unknown fields {', '.join(unknown)}"
        changes = {k: v for k, v in rec.items() if k in spec.writable or k.startswith("CF_")}
        if key < 0:
            return with_defaults(spec.fields, {spec.key: key, **changes}), ""
        stored = self.tables[spec.plural].get(key)
        if stored is None:
            return None, f"{label}: not found"
        base = baselines.get(key)
        if base is None:
            return None, f"{label}: no baseline in Unchanged{spec.plural}"
        current = render(stored)
        if self.comparable(spec, base) != self.comparable(spec, current):
            return None, f"{label}: Record has been modified since it was read"
        if spec.plural == "Contacts" and "ContactClientKey" in rec \
                and rec["ContactClientKey"] != current.get("ContactClientKey"):
            return None, f"{label}: ContactClientKey cannot be written; list the contact in the client's Contacts"
        new = {**stored, **changes}
        if self.comparable(spec, new) == self.comparable(spec, stored):
            return None, f"{label}: No changes"
        return new, ""

    def _record_problems(self, spec: EntitySpec, rec: Record, key: int, label: str, new: Record) -> list[str]:
        problems = validate_fields(spec.fields, label, new) + self.check_refs(spec.fields, label, new)
        if key < 0 and rec.get("ContactClientKey") is not None:
            problems.append(f"{label}: ContactClientKey cannot be written; list the contact in the client's Contacts")
        return problems

    def save(self, spec: EntitySpec, plans: list[tuple[int, Record]]) -> list[Record]:
        table = self.tables[spec.plural]
        next_key = table.max_int_key() + 1
        stamp = self.stamp(spec.plural)
        links_before = self.contact_links()["Clients"] if spec.plural == "Clients" and plans else {}
        owners = self._contact_owners() if spec.plural == "Clients" and plans else {}
        for original_key, new in plans:
            if original_key < 0:
                new[spec.key] = next_key
                next_key += 1
            new["LastModifiedDate"] = stamp
            if spec.plural == "Clients":
                self._take_contacts(new, stamp, owners)
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

    def _contact_owners(self) -> dict[Any, set[Any]]:
        """Contact key -> keys of the clients whose Contacts[] list it, read once per Update call."""
        owners: dict[Any, set[Any]] = {}
        for row in self.tables["Clients"].all():
            for ref in row.get("Contacts") or []:
                owners.setdefault(ref.get("ContactKey"), set()).add(row["ClientKey"])
        return owners

    def _take_contacts(self, client: Record, stamp: str, owners: dict[Any, set[Any]]) -> None:
        """A contact belongs to one client: listing it on this client removes it from any other. ``owners``
        (``_contact_owners``) is kept current as the call saves clients, so a call of many clients reads only
        the clients it takes contacts from, not every client per client."""
        mine = {ref.get("ContactKey") for ref in client.get("Contacts") or []}
        table = self.tables["Clients"]
        for key in sorted({k for c in mine for k in owners.get(c, ()) if k != client["ClientKey"]}):
            other = table.peek(key)
            if other is None:
                continue
            kept = [ref for ref in other.get("Contacts") or [] if ref.get("ContactKey") not in mine]
            if len(kept) != len(other.get("Contacts") or []):
                table.put({**other, "Contacts": kept, "LastModifiedDate": stamp}, commit=False)
        for contact in mine:
            owners[contact] = {client["ClientKey"]}

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
