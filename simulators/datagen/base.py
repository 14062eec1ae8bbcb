"""What every record type's generator shares: sizes and the world, names and their variants, the planted
overlap slots, and the flat Ajera blocks (dates, PHONE, ADDR)."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulators.datagen.pools import (
    ACCENTED_FIRST,
    ACCENTED_SURNAMES,
    CITIES,
    CONSULTANT_DISCIPLINES,
    CREATED_FROM,
    DESIGN_DISCIPLINES,
    FACILITIES,
    FIRST_NAMES,
    INITIALS,
    LEGAL_SUFFIXES,
    LONG_WORKS,
    MIDDLE_NAMES,
    MODIFIED_FROM,
    MODIFIED_SPAN_MS,
    OWNER_FORMS,
    PLACES,
    SUFFIX_SWAPS,
    SUPPLIER_KINDS,
    SURNAMES,
    WORKS,
)

CRM_NAME_MAX = 40
AJERA_DESCRIPTION_MAX = 80
CONTACTS_SYNC_CAP = 5  # AjeraSync "Y" contacts per CRM firm


@dataclass
class Sizes:
    """Record counts per system (Ajera and CRM each get about this many; see ``describe``)."""

    firms: int = 200
    contacts: int = 400
    employees: int = 60
    vendors: int = 40
    projects: int = 300
    templates: int = 3


@dataclass
class World:
    ajera: dict[str, list[dict[str, Any]]]
    crm: dict[str, list[dict[str, Any]]]
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)


# --------------------------------------------------------------------------------------------- names

PUNCT = re.compile(r"[^\w\s]")
LEGAL_SUFFIX_WORDS = {
    "inc", "incorporated", "llc", "llp", "ltd", "limited", "corp", "corporation", "co", "company", "pc", "pllc",
    "lp", "plc", "gmbh",
}


def normalize_name(name: str | None) -> str:
    """Fold case, accents, punctuation, ``&``/``and``, legal suffixes and a leading "The".

    The same rules as the sync engine's match-suggestion normaliser (``include.sync.names.normalised``),
    kept here so the simulators do not import the sync code.
    """
    value = name or ""
    if not value.isascii():
        value = unicodedata.normalize("NFKD", value)
        value = "".join(ch for ch in value if not unicodedata.combining(ch))
    value = value.casefold().replace("&", " and ")
    value = re.sub(r"[.'\u2019]", "", value)
    value = PUNCT.sub(" ", value)
    words = value.split()
    if words and words[0] == "the":
        words = words[1:]
    while words and words[-1] in LEGAL_SUFFIX_WORDS:
        words = words[:-1]
    return " ".join(words)


def person_name(first: str | None, middle: str | None, last: str | None) -> str:
    return " ".join(p.strip() for p in (first, middle, last) if p and p.strip())


# ------------------------------------------------------------------------------------------ helpers


class Registry:
    """Names already used in one name space, by ``normalize_name``."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def claim(self, name: str) -> bool:
        key = normalize_name(name)
        if not key or key in self.keys:
            return False
        self.keys.add(key)
        return True


# Ajera writes LastModifiedDate in the tenant's zone with the zone's name; the seed uses a few US zones
# (standard and daylight time), so the sync's date parsing sees every offset form.
AJERA_ZONES = [(-300, "Eastern Standard Time"), (-240, "Eastern Daylight Time"), (-360, "Central Standard Time"),
                (-420, "Mountain Standard Time"), (-480, "Pacific Standard Time"), (-420, "Pacific Daylight Time")]


def ajera_date(moment: datetime, zone: tuple[int, str] = (-300, "Eastern Standard Time")) -> str:
    """``moment`` (UTC) in Ajera's own form: "2023-09-27 09:57:49.607 GMT-04:00 (Eastern Daylight Time)"."""
    offset, name = zone
    local = moment + timedelta(minutes=offset)
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return f"{local:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} GMT{sign}{hours:02d}:{minutes:02d} ({name})"


PHONE_PARTS = ("PrimaryPhone", "SecondaryPhone", "TertiaryPhone", "Fax")
ADDRESS_PARTS = ("LineOne", "LineTwo", "LineThree", "City", "State", "Zip", "Country")


def phone_block(primary: str, fax: str = "", secondary: str = "") -> dict[str, str]:
    """The flat PHONE block; empty text is "" as Ajera returns it."""
    out = {f"{which}{part}": "" for which in PHONE_PARTS for part in ("Number", "Description")}
    out.update({"PrimaryPhoneNumber": primary, "PrimaryPhoneDescription": "Main" if primary else ""})
    if secondary:
        out.update({"SecondaryPhoneNumber": secondary, "SecondaryPhoneDescription": "Mobile"})
    if fax:
        out.update({"FaxNumber": fax, "FaxDescription": "Fax"})
    return out


def address_block(line1: str, city: str, state: str, zip_code: str, line2: str = "",
             mailing: tuple[str, str, str, str] | None = None) -> dict[str, Any]:
    """The flat ADDR block: primary address, and a mailing address that is the same or another one."""
    out: dict[str, Any] = {}
    for prefix, (one, two, town, st, code) in (
        ("PrimaryAddress", (line1, line2, city, state, zip_code)),
        ("MailingAddress", (mailing[0], "", mailing[1], mailing[2], mailing[3]) if mailing else ("", "", "", "", "")),
    ):
        out.update({f"{prefix}LineOne": one, f"{prefix}LineTwo": two, f"{prefix}LineThree": "",
                    f"{prefix}City": town, f"{prefix}State": st, f"{prefix}Zip": code,
                    f"{prefix}Country": "United States" if one else ""})
    out["MailingAddressSameAsPrimary"] = mailing is None
    return out


def crm_date(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}"


class Gen:
    def __init__(self, seed: int, sizes: Sizes) -> None:
        self.rng = random.Random(seed)
        self.sizes = sizes
        self.firm_names = Registry()
        self.people_names = Registry()
        self.project_names = Registry()
        self.project_short: set[str] = set()
        self.hex_used: set[str] = set()

    # ---- primitives
    def hex32(self) -> str:
        while True:
            value = f"{self.rng.getrandbits(128):032X}"  # Vantagepoint keys are upper-case hex
            if value not in self.hex_used:
                self.hex_used.add(value)
                return value

    def moment(self) -> datetime:
        return MODIFIED_FROM + timedelta(milliseconds=self.rng.randrange(MODIFIED_SPAN_MS))

    def ajera_mod(self) -> str:
        return ajera_date(self.moment(), self.rng.choice(AJERA_ZONES))

    def mailing(self, city: str, state: str, zip_code: str) -> tuple[str, str, str, str] | None:
        """Most records mail to their primary address; some to a PO box."""
        if self.rng.random() < 0.75:
            return None
        return (f"PO Box {self.rng.randint(100, 99999)}", city, state, zip_code)

    def crm_dates(self) -> tuple[str, str]:
        mod = self.moment()
        span = int((mod - CREATED_FROM).total_seconds())
        created = CREATED_FROM + timedelta(seconds=self.rng.randrange(max(span, 1)),
                                           milliseconds=self.rng.randrange(1000))
        return crm_date(created), crm_date(mod)

    def phone(self, area: str) -> str:
        return f"({area}) {self.rng.randint(200, 989)}-{self.rng.randint(0, 9999):04d}"

    def city(self) -> tuple[str, str, str, str]:
        return self.rng.choice(CITIES)

    # ---- names
    def firm_name(self, kind: str) -> str:
        """A new firm name, unique under normalize_name. kind: client | consultant | supplier."""
        rng = self.rng
        for _ in range(10000):
            if kind == "consultant":
                disc = rng.choice(CONSULTANT_DISCIPLINES)[0]
                lead = rng.choice([rng.choice(SURNAMES), rng.choice(PLACES),
                                   f"{rng.choice(SURNAMES)} & {rng.choice(SURNAMES)}"])
                name = f"{lead} {disc}{rng.choice(LEGAL_SUFFIXES)}"
            elif kind == "supplier":
                name = f"{rng.choice(PLACES + SURNAMES)} {rng.choice(SUPPLIER_KINDS)}{rng.choice(LEGAL_SUFFIXES)}"
            elif rng.random() < 0.6:
                form = rng.choice(OWNER_FORMS)
                s, s2 = rng.sample(SURNAMES, 2)
                name = form.format(p=rng.choice(PLACES), s=s, s2=s2)
                if "{s}" in form and "The " not in form and rng.random() < 0.5:
                    name += rng.choice(LEGAL_SUFFIXES)
            else:
                s, s2 = rng.sample(SURNAMES, 2)
                lead = rng.choice([f"{s} & {s2}", s, rng.choice(PLACES), f"{s} {s2}",
                                   rng.choice(["Greenline", "Bluestone", "Northbeam", "Keystone", "Brightwater",
                                               "Ironbridge", "Cornerstone", "Blackrock", "Tidewater"])])
                name = f"{lead} {rng.choice(DESIGN_DISCIPLINES)}{rng.choice(LEGAL_SUFFIXES)}"
            if len(name) <= 80 and self.firm_names.claim(name):
                return name
        raise RuntimeError("firm name space exhausted")

    def person(self, feature: str | None = None) -> tuple[str, str, str]:
        """A new (first, middle, last), unique under normalize_name of the full name."""
        rng = self.rng
        for _ in range(10000):
            first = rng.choice(FIRST_NAMES)
            last = rng.choice(SURNAMES)
            r = rng.random()
            middle = "" if r < 0.4 else (rng.choice(INITIALS) if r < 0.75 else rng.choice(MIDDLE_NAMES))
            if feature == "accent_first":
                first = rng.choice(ACCENTED_FIRST)[0]
            elif feature == "accent_last":
                last = rng.choice(ACCENTED_SURNAMES)[0]
            elif feature == "initial_period":
                middle = rng.choice(INITIALS) + "."
            elif feature == "hyphen":
                a, b = rng.sample(SURNAMES, 2)
                last = f"{a}-{b}"
            if self.people_names.claim(person_name(first, middle, last)):
                return first, middle, last
        raise RuntimeError("person name space exhausted")

    def project_name(self, long: bool | None = None, near_miss: bool = False) -> str:
        """A new project name, unique under normalize_name; ``near_miss`` leaves room for a variant and
        prefers names with punctuation or an ampersand to vary."""
        rng = self.rng
        max_len = AJERA_DESCRIPTION_MAX - 4 if near_miss else AJERA_DESCRIPTION_MAX
        featured = near_miss and rng.random() < 0.75
        if long is None:
            long = rng.random() < 0.22
        for _ in range(10000):
            place = rng.choice(PLACES)
            facility = rng.choice(FACILITIES).format(n=rng.randint(1, 24))
            if long:
                form = rng.random()
                if form < 0.55:
                    name = f"{place} {facility} — Phase {rng.randint(1, 4)} {rng.choice(LONG_WORKS)}"
                elif form < 0.8:
                    name = f"{place} {facility} {rng.choice(WORKS)}: {rng.choice(LONG_WORKS)}"
                else:
                    name = f"{rng.choice(SURNAMES)} Properties {facility} {rng.choice(LONG_WORKS)}"
                if not (CRM_NAME_MAX < len(name) <= max_len):
                    continue
            else:
                form = rng.random()
                if form < 0.25:
                    name = f"{place} {facility}"
                elif form < 0.9:
                    name = f"{place} {facility} {rng.choice(WORKS)}"
                else:
                    name = f"{rng.choice(SURNAMES)} {facility} {rng.choice(WORKS)}"
                if len(name) > CRM_NAME_MAX:
                    continue
            if featured and not any(mark in name for mark in ("&", "-", "—", "No. ", ":", ", ")):
                continue
            # the CRM short Name (cut to 40) must not collide either, so no unplanned duplicates appear
            short_key = normalize_name(name[:CRM_NAME_MAX].rstrip())
            if short_key in self.project_short:
                continue
            if self.project_names.claim(name):
                self.project_short.add(short_key)
                return name
        raise RuntimeError("project name space exhausted")

    # ---- variants
    def case_variant(self, name: str) -> str:
        rng = self.rng
        options = [name.upper(), name.lower(), name.title(),
                   " ".join(w.capitalize() if w.islower() else w for w in name.split(" "))]
        rng.shuffle(options)
        for option in options:
            if option != name and option.casefold() == name.casefold():
                return option
        raise RuntimeError(f"no case variant for {name!r}")

    def near_variant(self, name: str, kinds: list[str], max_len: int = AJERA_DESCRIPTION_MAX) -> tuple[str, str]:
        """(variant, kind): differs from ``name`` under casefold, equal under normalize_name."""
        rng = self.rng
        order = list(kinds)
        rng.shuffle(order)
        for kind in [*order, "the"]:
            variant = apply_near(kind, name, rng)
            if (variant and len(variant) <= max_len and variant.casefold() != name.casefold()
                    and normalize_name(variant) == normalize_name(name)):
                return variant, kind
        raise RuntimeError(f"no near-miss variant for {name!r}")


SUFFIX_RE = re.compile(r"(,?\s+(Inc\.?|LLC|Ltd\.?|PC|PLLC|LLP|Corp\.?))$")


def apply_near(kind: str, name: str, rng: random.Random) -> str | None:
    if kind == "amp_and":
        if " & " in name:
            return name.replace(" & ", " and ", 1)
        if " and " in name:
            return name.replace(" and ", " & ", 1)
        return None
    if kind == "suffix":
        match = SUFFIX_RE.search(name)
        base = name[: match.start()] if match else name
        choices = [s for s in SUFFIX_SWAPS if base + s != name]
        if match:
            choices.append("")
        return base + rng.choice(choices)
    if kind == "the":
        return name[4:] if name.startswith("The ") else "The " + name
    if kind == "punct":
        for old, new in ((", Inc", " Inc"), ("Inc.", "Inc"), ("-", " "), ("No. ", "No "), (" — ", " - "),
                         (": ", " - "), (", ", " ")):
            if old in name:
                return name.replace(old, new, 1)
        return None
    if kind == "dash":
        if " — " in name:
            return name.replace(" — ", " - ", 1)
        if "-" in name:
            return name.replace("-", " ", 1)
        return None
    return None


def allocate(n_a: int, n_c: int, exact: float, case: float, near: float, dups_a: int, dups_c: int,
              ) -> dict[str, int]:
    """Counts of each overlap kind so that Ajera uses n_a records and the CRM n_c."""
    n = min(n_a, n_c)
    counts = {"exact": round(n * exact), "case_only": round(n * case), "near_miss": round(n * near),
              "dup_a": dups_a, "dup_c": dups_c}
    if n >= 10:
        for k in ("exact", "case_only", "near_miss"):
            counts[k] = max(1, counts[k])

    def used() -> tuple[int, int]:
        shared = counts["exact"] + counts["case_only"] + counts["near_miss"]
        return (shared + 2 * counts["dup_a"] + counts["dup_c"], shared + counts["dup_a"] + 2 * counts["dup_c"])

    for k in ("dup_a", "dup_c", "near_miss", "case_only", "exact"):
        while counts[k] > 0 and (used()[0] > n_a or used()[1] > n_c):
            counts[k] -= 1
    ua, uc = used()
    counts["ajera_only"] = n_a - ua
    counts["crm_only"] = n_c - uc
    return counts


@dataclass
class Slot:
    """One name (or name group) and the names it takes in each system."""

    kind: str  # exact | case_only | near_miss | dup_a | dup_c | ajera_only | crm_only
    a_names: list[Any]
    c_names: list[Any]
    detail: str = ""
    profile: dict[str, Any] = field(default_factory=dict)
    a_recs: list[dict[str, Any]] = field(default_factory=list)
    c_recs: list[dict[str, Any]] = field(default_factory=list)


def make_slots(counts: dict[str, int], new_name: Callable[[str], Any], case: Callable[[Any], Any],
           near: Callable[[Any], tuple[Any, Any, str]]) -> list[Slot]:
    """Build the slots. ``new_name(kind)`` makes a base name; ``near(base)`` returns (a, c, detail)."""
    slots: list[Slot] = []
    for _ in range(counts["exact"]):
        name = new_name("exact")
        slots.append(Slot("exact", [name], [name]))
    for i in range(counts["case_only"]):
        name = new_name("case_only")
        variant = case(name)
        slots.append(Slot("case_only", [name], [variant]) if i % 2 else Slot("case_only", [variant], [name]))
    for _ in range(counts["near_miss"]):
        a, c, detail = near(new_name("near_miss"))
        slots.append(Slot("near_miss", [a], [c], detail))
    for _ in range(counts["dup_a"]):
        name = new_name("dup")
        slots.append(Slot("dup_a", [name, name], [name]))
    for _ in range(counts["dup_c"]):
        name = new_name("dup")
        slots.append(Slot("dup_c", [name], [name, name]))
    for _ in range(counts["ajera_only"]):
        slots.append(Slot("ajera_only", [new_name("ajera_only")], []))
    for _ in range(counts["crm_only"]):
        slots.append(Slot("crm_only", [], [new_name("crm_only")]))
    return slots


def shuffled_keys(rng: random.Random, n: int) -> list[int]:
    """Positive Ajera keys, handed out in a shuffled order (so the key does not give the overlap away)."""
    keys = list(range(1, n + 1))
    rng.shuffle(keys)
    return keys


def slot_notes(slots: list[Slot], a_key: str, c_key: str, a_name: Callable[[dict], str],
           c_name: Callable[[dict], str]) -> dict[str, Any]:
    out: dict[str, Any] = {"exact": [], "case_only": [], "near_miss": [], "duplicates": [], "ajera_only": [],
                           "crm_only": []}
    for s in slots:
        if s.kind in ("exact", "case_only", "near_miss"):
            pair = {"ajera": s.a_recs[0][a_key], "crm": s.c_recs[0][c_key], "ajera_name": a_name(s.a_recs[0]),
                    "crm_name": c_name(s.c_recs[0])}
            if s.detail:
                pair["kind"] = s.detail
            out[s.kind].append(pair)
        elif s.kind in ("dup_a", "dup_c"):
            out["duplicates"].append({"side": "ajera" if s.kind == "dup_a" else "crm", "name": a_name(s.a_recs[0]),
                                      "ajera": [r[a_key] for r in s.a_recs], "crm": [r[c_key] for r in s.c_recs]})
        elif s.kind == "ajera_only":
            out["ajera_only"].append(s.a_recs[0][a_key])
        else:
            out["crm_only"].append(s.c_recs[0][c_key])
    return out


def person_full(rec: dict[str, Any]) -> str:
    return person_name(rec.get("FirstName"), rec.get("MiddleName"), rec.get("LastName"))


def web_domain(name: str) -> str:
    words = [w for w in normalize_name(name).split() if w not in ("and", "of", "city", "county")]
    return ("".join(words[:2]) or "example") + ".com"


def near_pair(g: Gen, base: str, kinds: list[str]) -> tuple[str, str, str]:
    variant, kind = g.near_variant(base, kinds)
    return (base, variant, kind) if g.rng.random() < 0.5 else (variant, base, kind)


def person_feature(rng: random.Random, kind: str) -> str | None:
    if kind == "near_miss":
        return rng.choice(["accent_first", "accent_last", "initial_period", "hyphen"])
    return None


def person_case(g: Gen, p: tuple[str, str, str]) -> tuple[str, str, str]:
    first, middle, last = p
    options = [(first.upper(), middle.upper(), last.upper()), (first, middle, last.upper())]
    if any(c.isupper() for c in last[1:]):
        options.append((first, middle, last.capitalize()))
    if middle and middle != middle.lower():
        options.append((first, middle.lower(), last))
    rng = g.rng
    rng.shuffle(options)
    for option in options:
        if option != p:
            return option
    return (first.lower(), middle, last)


def person_near(g: Gen, p: tuple[str, str, str]) -> tuple[Any, Any, str]:
    first, middle, last = p
    for a, b in ACCENTED_FIRST:
        if first == a:
            variant, kind = (b, middle, last), "accent"
            break
    else:
        for a, b in ACCENTED_SURNAMES:
            if last == a:
                variant, kind = (first, middle, b), "accent"
                break
        else:
            if middle.endswith("."):
                variant, kind = (first, middle[:-1], last), "punct"
            elif "-" in last:
                variant, kind = (first, middle, last.replace("-", " ")), "punct"
            else:  # fall back: add a period after a middle initial or a hyphenless middle
                variant, kind = (first, (middle or "J") + ".", last), "punct"
    assert normalize_name(person_name(*variant)) == normalize_name(person_name(*p))
    return (p, variant, kind) if g.rng.random() < 0.5 else (variant, p, kind)


def email_for(first: str, last: str, domain: str) -> str:
    def fold(text: str) -> str:
        text = unicodedata.normalize("NFKD", text)
        return "".join(ch for ch in text.lower() if ch.isalnum())

    return f"{fold(first)}.{fold(last)}@{domain}"


def count_by(rows: list[dict], key: str) -> dict[Any, int]:
    counts: dict[Any, int] = {}
    for row in rows:
        counts[row[key]] = counts.get(row[key], 0) + 1
    return counts


def dedupe_rows(rows: list[dict], key: str) -> list[dict]:
    seen: set[tuple[str, str]] = set()
    out = []
    for row in rows:
        k = (row["WBS1"], row[key])
        if k not in seen:
            seen.add(k)
            out.append(row)
    return out


