"""References between record types (a contact's firm, a project's client and manager), kept neutral.

A reference compares across systems in one form. ``A:<Ajera key>`` is a referenced record that is mapped
(from either side). ``a:<Ajera key>`` and ``c:<CRM key>`` are references to records not mapped yet: they
exist on one side only, so they can never be written to the other side, and the planner leaves them out.
A contact's firm on both sides compares equal exactly when the two firms are linked.
"""

from __future__ import annotations

from collections.abc import Iterable

UNMAPPED_AJERA = "a:"
UNMAPPED_CRM = "c:"


class Refs:
    def __init__(self, pairs: dict[str, Iterable[tuple[str, str]]] | None = None) -> None:
        self._to_crm: dict[str, dict[str, str]] = {}
        self._to_ajera: dict[str, dict[str, str]] = {}
        for record_type, rows in (pairs or {}).items():
            rows = list(rows)
            self._to_crm[record_type] = {str(a): str(c) for a, c in rows}
            self._to_ajera[record_type] = {str(c): str(a) for a, c in rows}

    def from_ajera(self, record_type: str, key: object) -> str:
        if key in (None, "", 0):
            return ""
        return f"A:{key}" if str(key) in self._to_crm.get(record_type, {}) else f"{UNMAPPED_AJERA}{key}"

    def from_crm(self, record_type: str, key: object) -> str:
        if key in (None, ""):
            return ""
        ajera = self._to_ajera.get(record_type, {}).get(str(key))
        return f"A:{ajera}" if ajera is not None else f"{UNMAPPED_CRM}{key}"

    def ajera_key(self, record_type: str, ref: str) -> str | None:
        if not ref or ref.startswith(UNMAPPED_CRM):
            return None
        return ref[2:]

    def crm_key(self, record_type: str, ref: str) -> str | None:
        if not ref or ref.startswith(UNMAPPED_AJERA):
            return None
        if ref.startswith(UNMAPPED_CRM):
            return ref[2:]
        return self._to_crm.get(record_type, {}).get(ref[2:])


def linked(value: object) -> bool:
    """True for a reference to a record that is mapped, i.e. one that exists on both sides."""
    return isinstance(value, str) and value.startswith("A:")


def writable(value: object, target: str) -> bool:
    """False for a reference to a record that does not exist on the ``target`` side ("ajera" / "crm")."""
    if not isinstance(value, str):
        return True
    return not value.startswith(UNMAPPED_CRM if target == "ajera" else UNMAPPED_AJERA)


NO_REFS = Refs()
