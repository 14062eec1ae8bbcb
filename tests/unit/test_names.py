"""Name rules: ``exact_key`` (what is ever auto-linked) and ``normalised`` (match-suggestion material only)."""

from __future__ import annotations

import pytest

from include.sync.names import exact_key, normalised, person_name

EXACT, NORMALISED, DIFFERENT = "exact", "normalised", "different"

# (left, right, expected): EXACT = same under exact_key (case and white space only), so auto-linked;
# NORMALISED = different under exact_key but equal under normalised (a suggestion, never linked);
# DIFFERENT = different under both.
PAIRS = [
    # -- exact: case and white space only
    ("Acme Engineering", "ACME ENGINEERING", EXACT),
    ("Acme Engineering", "acme engineering", EXACT),
    ("  Acme Engineering ", "Acme Engineering", EXACT),
    ("Acme   Engineering", "Acme Engineering", EXACT),
    ("Acme\tEngineering\n", "Acme Engineering", EXACT),
    ("Acme\u00a0Engineering Inc", "acme engineering inc", EXACT),  # no-break space
    ("Smith & Jones", "SMITH & JONES", EXACT),
    ("O'Brien Surveying", "o'brien surveying", EXACT),
    ("Straße Bau GmbH", "STRASSE BAU GMBH", EXACT),  # casefold, not lower()
    ("Café Design", "CAFÉ DESIGN", EXACT),
    (person_name("John", "Q", "Public"), person_name("JOHN", "q", "PUBLIC"), EXACT),
    (person_name("Mary", None, "Smith"), person_name(" Mary ", "", "Smith "), EXACT),
    (person_name("Ana", "María", "López"), "ana maría lópez", EXACT),
    # -- normalised only: &/and, legal suffixes, punctuation, accents, a leading "The"
    ("ABC Trading Inc", "ABC Trading Ltd", NORMALISED),
    ("Smith & Jones Architects", "Smith and Jones Architects", NORMALISED),
    ("Smith&Jones", "Smith and Jones", NORMALISED),
    ("Acme Engineering, Inc.", "Acme Engineering", NORMALISED),
    ("Acme Engineering LLC", "Acme Engineering", NORMALISED),
    ("Acme Corp.", "Acme Corporation", NORMALISED),
    ("Acme Co", "Acme Company", NORMALISED),
    ("Arup Ltd.", "Arup Limited", NORMALISED),
    ("Jacobs Engineering Group Inc.", "Jacobs Engineering Group", NORMALISED),
    ("WSP USA Corp", "WSP USA", NORMALISED),
    ("HDR, Inc.", "HDR Inc", NORMALISED),
    ("Smith & Co., Inc.", "Smith and Company", NORMALISED),
    ("The Walsh Group", "Walsh Group", NORMALISED),
    ("The Smith Group, Inc.", "smith group", NORMALISED),
    ("Café Design Studio", "Cafe Design Studio", NORMALISED),
    ("Müller Consulting GmbH", "Muller Consulting", NORMALISED),
    ("Smith-Jones Partners", "Smith Jones Partners", NORMALISED),
    ("Jones, Lang & Partners, LLP", "Jones Lang and Partners", NORMALISED),
    ("Kimley-Horn and Associates, Inc.", "Kimley Horn & Associates", NORMALISED),
    (person_name("José", None, "Núñez"), person_name("Jose", None, "Nunez"), NORMALISED),
    (person_name("Mary-Anne", None, "Smith"), person_name("Mary Anne", None, "Smith"), NORMALISED),
    (person_name("John", "Q.", "Public"), person_name("John", "Q", "Public"), NORMALISED),
    # -- different names
    ("Acme Engineering", "Acme Engineers", DIFFERENT),
    ("Acme Engineering", "Acme Engineering Group", DIFFERENT),
    ("Smith & Jones", "Smith & Jonas", DIFFERENT),
    ("North Star Design", "Northstar Design", DIFFERENT),
    ("Company A", "Company B", DIFFERENT),
    ("Inc Design", "Design", DIFFERENT),  # a suffix word is only dropped at the end
    ("Co-op Builders", "Builders", DIFFERENT),
    ("Theatre Works", "Atre Works", DIFFERENT),  # "The" is only dropped as a whole word
    ("The Smith Group", "Smith Group Partners", DIFFERENT),
    ("Smith Partners", "Smith & Partners", DIFFERENT),
    ("ABC Trading Inc", "ABD Trading Inc", DIFFERENT),
    ("Alpha Inc Beta", "Alpha Beta", DIFFERENT),
    (person_name("John", None, "Smith"), person_name("Jon", None, "Smith"), DIFFERENT),
    (person_name("John", "A", "Smith"), person_name("John", "B", "Smith"), DIFFERENT),
    (person_name("John", None, "Smith"), person_name("John", "A", "Smith"), DIFFERENT),
    (person_name("Smith", None, "John"), person_name("John", None, "Smith"), DIFFERENT),
]


def test_table_is_big_enough():
    assert len(PAIRS) >= 40
    assert {kind for *_, kind in PAIRS} == {EXACT, NORMALISED, DIFFERENT}


@pytest.mark.parametrize(("left", "right", "expected"), PAIRS, ids=[f"{left!r}~{right!r}" for left, right, _ in PAIRS])
def test_name_pairs(left: str, right: str, expected: str):
    exact = exact_key(left) == exact_key(right)
    norm = normalised(left) == normalised(right)
    if expected == EXACT:
        assert exact, (exact_key(left), exact_key(right))
        assert norm, "an exact match must also be a normalised match"
    elif expected == NORMALISED:
        assert not exact, "must not be auto-linked"
        assert norm, (normalised(left), normalised(right))
    else:
        assert not exact and not norm, (normalised(left), normalised(right))


@pytest.mark.parametrize(("left", "right"), [
    ("Acme Engineering, P.C.", "Acme Engineering PC"),
    ("Acme L.L.C.", "Acme LLC"),
    ("O'Brien Surveying", "OBrien Surveying"),
])
def test_normalised_folds_punctuation_inside_words(left: str, right: str):
    """Names that differ only by punctuation are normalised matches (the docstring: punctuation folded away).

    Dotted legal suffixes ("P.C.", "L.L.C.") are common in A/E firm names; today punctuation becomes a space,
    so "P.C." turns into the two words "p c", which is neither a suffix nor equal to "pc".
    """
    assert exact_key(left) != exact_key(right)
    assert normalised(left) == normalised(right), (normalised(left), normalised(right))


def test_exact_key_values():
    assert exact_key(None) == ""
    assert exact_key("") == ""
    assert exact_key("  A \t B  ") == "a b"
    assert exact_key("Straße") == "strasse"


def test_normalised_values():
    assert normalised(None) == ""
    assert normalised("The Smith & Jones Co., Inc.") == "smith and jones"
    assert normalised("Crème Brûlée LLC") == "creme brulee"
    assert normalised("The") == ""  # nothing left, but no crash


def test_person_name():
    assert person_name("John", "Q", "Public") == "John Q Public"
    assert person_name("John", None, "Public") == "John Public"
    assert person_name(" John ", "  ", " Public ") == "John Public"
    assert person_name(None, None, "Cher") == "Cher"
    assert person_name(None, None, None) == ""
