"""A record's name variants and derived text, drawn from the generator's random stream: near-miss pairs,
case-only and near-miss forms of a person's name, web domains and e-mail addresses."""

from __future__ import annotations

import random
import unicodedata
from typing import TYPE_CHECKING, Any

from simulators.datagen.names import normalize_name, person_name
from simulators.datagen.pools import ACCENTED_FIRST, ACCENTED_SURNAMES

if TYPE_CHECKING:
    from simulators.datagen.base import Gen

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
