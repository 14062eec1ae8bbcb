"""Names and their near-miss forms: the normal form the sync compares by (``normalize_name``), a person's full
name, and the edits that make a near miss (``apply_near``)."""

from __future__ import annotations

import random
import re
import unicodedata

from simulators.datagen.pools import SUFFIX_SWAPS

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
