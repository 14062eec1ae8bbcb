"""What every record type's generator shares: sizes, the world, names in use (``Registry``) and the random
generator (``Gen``) that draws every name, date and phone from one stream. Names and their variants are in
``names`` and ``variants``, the planted overlap slots in ``slots``, the flat Ajera blocks in ``blocks``."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulators.datagen.blocks import AJERA_ZONES, ajera_date, crm_date
from simulators.datagen.names import apply_near, normalize_name, person_name
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


