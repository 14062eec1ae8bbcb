"""Name rules for matching records across the systems.

Exact matching (what Deltek's sync does, and all we ever link automatically) compares names
case-insensitively with white space folded. ``normalised`` goes further for match *suggestions* only.
"""

from __future__ import annotations

import re
import unicodedata


def exact_key(name: str | None) -> str:
    # str.split() folds the same white space as re's \s (both are str.isspace), at a third of the cost:
    # planning calls this for every unmapped record of both systems.
    return " ".join((name or "").split()).casefold()


def person_name(first: str | None, middle: str | None, last: str | None) -> str:
    return " ".join(part.strip() for part in (first, middle, last) if part and part.strip())


_LEGAL_SUFFIXES = {
    "inc", "incorporated", "llc", "llp", "ltd", "limited", "corp", "corporation", "co", "company", "pc", "pllc",
    "lp", "plc", "gmbh",
}
_PUNCT = re.compile(r"[^\w\s]")
_JOINING = re.compile(r"[.'’]")  # dropped without a space: "L.L.C." is "llc", "O'Brien" is "obrien"


def normalised(name: str | None) -> str:
    """Case, accents, punctuation, ``&``/``and``, legal suffixes and a leading "The" folded away."""
    value = name or ""
    if not value.isascii():  # ASCII has no accents to fold: skips a per-character pass over nearly every name
        value = unicodedata.normalize("NFKD", value)
        value = "".join(ch for ch in value if not unicodedata.combining(ch))
    value = value.casefold()
    value = value.replace("&", " and ")
    value = _JOINING.sub("", value)
    value = _PUNCT.sub(" ", value)
    words = value.split()
    if words and words[0] == "the":
        words = words[1:]
    while words and words[-1] in _LEGAL_SUFFIXES:
        words = words[:-1]
    return " ".join(words)
