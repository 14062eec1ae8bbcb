"""The mixed project team (``/project/{WBS1}/teammember``): the project's contacts (written as
``PRContactAssoc`` rows) and its employees (the ``employee`` grid), one row shape for both, told apart by
``RecordType`` (docs/simulator-contract.md, "Project contacts")."""

from __future__ import annotations

from typing import Any

EMPLOYEE, CONTACT = "Employee", "Contact"


def _name(person: dict[str, Any] | None) -> str:
    person = person or {}
    return " ".join(p for p in (person.get("FirstName"), person.get("LastName")) if isinstance(p, str) and p)


def teammember_rows(contact_rows: list[dict[str, Any]], employee_rows: list[dict[str, Any]],
                    contacts: Any, employees: Any) -> list[dict[str, Any]]:
    """Contact rows first, then employee rows, each with every teammember field (null where it does not
    apply). ``contacts``/``employees`` are the hub tables (``peek`` by key)."""
    out = []
    for row in contact_rows:
        out.append({**row, "RecordType": CONTACT, "Employee": None, "flName": _name(contacts.peek(row["ContactID"])),
                    "StartDate": None, "EndDate": None, "Hours": None})
    for row in employee_rows:
        out.append({"RecordID": row["RecordID"], "WBS1": row["WBS1"], "WBS2": row.get("WBS2", ""),
                    "WBS3": row.get("WBS3", ""), "RecordType": EMPLOYEE, "ContactID": None,
                    "Employee": row["Employee"], "Role": row.get("Role"), "RoleDescription": row.get("RoleDescription"),
                    "PrimaryInd": "N", "flName": _name(employees.peek(row["Employee"])),
                    "StartDate": row.get("StartDate"), "EndDate": row.get("EndDate"), "Hours": row.get("CRMHours"),
                    "ModDate": row.get("ModDate")})
    return out
