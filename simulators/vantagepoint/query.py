"""List queries: paging, fieldFilter, order and filterHash, applied by a linear scan of in-memory rows."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from simulators.vantagepoint.schema import WBS_LEVELS, Field, HubSpec, canonical_datetime

OPS = ("=", "!=", ">=", "<", "like")  # the operators the reference shows in use
# Integrator code sends "==" for equality (AF1 in the reference); taken as "=".
_OPP_ALIASES = {"==": "="}
_FILTER_KEY = re.compile(r"^filterHash\[(\d+)\]\[(\w+)\]$", re.IGNORECASE)
DEFAULT_PAGE_SIZE = 100


class QueryError(ValueError):
    """A malformed list query; answered with HTTP 400."""


@dataclass
class ListQuery:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    offset: int | None = None
    fields: list[str] | None = None
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    wbstype: str | None = None  # project hub: wbs1 | wbs2 | wbs3 rows only; None: every row
    predicates: list[Callable[[dict[str, Any]], bool]] = field(default_factory=list)

    def run(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The requested page of matching rows, whole (``project`` then keeps the fieldFilter's fields)."""
        matched = [row for row in rows if _at_level(row, self.wbstype) and all(p(row) for p in self.predicates)]
        # Python's sort is stable, so sorting by the last order field first gives a multi-field order.
        for name, descending in reversed(self.order):
            matched.sort(key=lambda row, n=name: _sort_key(row.get(n)), reverse=descending)
        start = self.offset if self.offset is not None else (self.page - 1) * self.page_size
        return [dict(row) for row in matched[start : start + self.page_size]]

    def project(self, rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        if self.fields is None:
            return rows
        wanted = [key] + [f for f in self.fields if f != key]
        return [{f: row.get(f) for f in wanted} for row in rows]


def _at_level(row: dict[str, Any], wbstype: str | None) -> bool:
    if wbstype is None:
        return True
    depth = 1 + bool(row.get("WBS2")) + bool(row.get("WBS3"))
    return depth == len(WBS_LEVELS[wbstype])


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value).casefold())


def _int_param(params: dict[str, str], name: str, minimum: int) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"Query parameter {name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise QueryError(f"Query parameter {name} must be >= {minimum}, got {value}")
    return value


def parse_list_query(pairs: list[tuple[str, str]], spec: HubSpec) -> ListQuery:
    """Build a ListQuery from raw (name, value) pairs of a query string or a postAsGet form body."""
    known = spec.all_fields()
    params: dict[str, str] = {}
    filters: dict[int, dict[str, str]] = {}
    for name, value in pairs:
        match = _FILTER_KEY.match(name)
        if match:
            filters.setdefault(int(match.group(1)), {})[match.group(2).lower()] = value
        else:
            params[name.lower()] = value

    query = ListQuery()
    query.page = _int_param(params, "page", 1) or 1
    size = _int_param(params, "pagesize", 1) or _int_param(params, "limit", 1)
    query.page_size = size or DEFAULT_PAGE_SIZE
    query.offset = _int_param(params, "offset", 0)

    if params.get("fieldfilter"):
        names = [n.strip() for n in params["fieldfilter"].split(",") if n.strip()]
        query.fields = [_known(name, spec, "fieldFilter") for name in names]
    if params.get("order"):
        for part in params["order"].split(","):
            query.order.append(_order_term(part.strip(), spec))
    if params.get("wbstype"):
        level = params["wbstype"].strip().lower()
        if spec.name != "project" or level not in WBS_LEVELS:
            raise QueryError(f"wbstype must be one of {', '.join(WBS_LEVELS)} on project, got {params['wbstype']!r}")
        query.wbstype = level

    for index in sorted(filters):
        item = filters[index]
        name = item.get("name")
        if not name:
            raise QueryError(f"filterHash[{index}] has no name")
        name = _known(name, spec, f"filterHash[{index}]", stored_only=True)
        opp = (item.get("opp") or "=").strip().lower()
        opp = _OPP_ALIASES.get(opp, opp)
        if opp not in OPS:
            raise QueryError(f"filterHash[{index}]: unknown opp {item.get('opp')!r}; use one of {', '.join(OPS)}")
        condition = (item.get("condition") or "and").lower()
        if condition != "and":
            raise QueryError(f"filterHash[{index}]: only condition 'and' is supported, got {condition!r}")
        query.predicates.append(_predicate(name, known[name], opp, item.get("value", ""), index))
    return query


def _known(name: str, spec: HubSpec, where: str, stored_only: bool = False) -> str:
    """The field's own spelling: names in a query are matched without regard to case."""
    canonical = spec.canonical(name)
    if canonical is None:
        raise QueryError(f"{where}: unknown field {name!r} on {spec.name}")
    if stored_only and canonical in spec.derived:
        raise QueryError(f"{where}: {canonical} is a display field of {spec.name}; it cannot be searched or sorted on")
    return canonical


def _order_term(term: str, spec: HubSpec) -> tuple[str, bool]:
    """``Name`` ascending, ``Name_D`` descending (Deltek's form); ``_A`` is taken as ascending."""
    if not term:
        raise QueryError("order: empty column name")
    if spec.canonical(term) is None and len(term) > 2 and term[-2] == "_" and term[-1].upper() in "AD":
        return _known(term[:-2], spec, "order", True), term[-1].upper() == "D"
    return _known(term, spec, "order", True), False


def _predicate(name: str, spec: Field, opp: str, raw: str, index: int) -> Callable[[dict[str, Any]], bool]:
    if opp == "like":
        pattern = raw if "%" in raw else f"%{raw}%"
        regex = re.compile(
            "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern),
            re.IGNORECASE | re.DOTALL,
        )
        return lambda row: row.get(name) is not None and regex.fullmatch(str(row.get(name))) is not None

    convert: Callable[[Any], Any]
    if spec.kind == "date":
        convert = canonical_datetime
    elif spec.kind == "number":
        convert = float
    else:
        convert = lambda v: str(v).casefold()  # noqa: E731 - text compares ignore case, as SQL Server's do
    if raw == "" and spec.kind != "number" and opp in ("=", "!="):
        # An empty value means "blank": null and "" are the same thing to the filter.
        blank = opp == "="
        return lambda row: (row.get(name) in (None, "")) == blank
    try:
        target = convert(raw)
    except ValueError:
        raise QueryError(f"filterHash[{index}]: {raw!r} is not a valid {spec.kind} for {name}") from None

    compare = _COMPARE[opp]

    def test(row: dict[str, Any]) -> bool:
        value = row.get(name)
        if value is None or value == "":
            return opp == "!="
        try:
            return compare(convert(value), target)
        except (ValueError, TypeError):
            return False

    return test


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
}
