"""Match suggestions: normalised and fuzzy candidates, never exact matches, blocked to stay near-linear."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from include.sync.model import Record
from include.sync.names import exact_key, normalised, person_name
from include.sync.suggestions import Suggestion, suggest, suggest_with_stats


def rec(system: str, key: str, name: str) -> Record:
    return Record(system=system, key=key, name=name, modified=None, flagged=False)  # type: ignore[arg-type]


def sides(ajera: dict[str, str], crm: dict[str, str]) -> tuple[list[Record], list[Record]]:
    return ([rec("ajera", k, n) for k, n in ajera.items()], [rec("crm", k, n) for k, n in crm.items()])


def pairs(result: list[Suggestion]) -> set[tuple[str, str]]:
    return {(s.ajera_key, s.crm_key) for s in result}


def one(a_name: str, c_name: str, **kwargs) -> list[Suggestion]:
    return suggest(*sides({"A1": a_name}, {"C1": c_name}), **kwargs)


# --- rule 1: normalised names equal ---------------------------------------------------------------------------

def test_normalised_near_misses_are_suggested_with_score_100():
    cases = [
        ("Morris Holdings, LLC", "Morris Holdings"),
        ("Eagle Ridge Parks & Recreation", "The Eagle Ridge Parks and Recreation"),
        ("ABC Trading Inc", "ABC Trading Ltd"),
        ("Café Bleu Design", "Cafe Bleu Design"),
        (person_name("Robert", "J.", "Smith"), person_name("Robert", "J", "Smith")),
    ]
    for a_name, c_name in cases:
        result = one(a_name, c_name)
        assert result == [Suggestion("A1", "C1", a_name, c_name, 100.0, "normalised")], (a_name, c_name)


def test_suggestions_are_only_suggestions_not_exact_matches():
    # "ABC Trading Inc" / "ABC Trading Ltd" are different legal names: proposed, scored 100, method normalised.
    [s] = one("ABC Trading Inc", "ABC Trading Ltd")
    assert s.method == "normalised" and exact_key(s.ajera_name) != exact_key(s.crm_name)


# --- rule 2: fuzzy --------------------------------------------------------------------------------------------

def test_typo_is_a_fuzzy_suggestion():
    [s] = one("Bayview Structural Enginers", "Bayview Structural Engineers")
    assert s.method == "fuzzy" and 90 <= s.score < 100
    assert (s.ajera_key, s.crm_key) == ("A1", "C1")


def test_a_typo_that_moves_a_word_in_sorted_order_is_still_found():
    # token_sort_ratio alone scores this 63 ("srveying" sorts after "sullivan"); plain ratio keeps it at 98.
    [s] = one("Sullivan Johnson Surveying LLP", "Sullivan Johnson Srveying")
    assert s.method == "fuzzy" and s.score > 95


def test_reordered_words_are_a_fuzzy_suggestion():
    [s] = one("Smith Jones Architects", "Jones Smith Architects")
    assert s.method == "fuzzy" and s.score == 100.0


def test_different_names_sharing_a_word_are_not_suggested():
    assert one("Summit Medical Center", "Summit Dental Group") == []
    assert one("Summit", "Summit Medical Center") == []  # containment is not similarity


def test_threshold_applies():
    assert one("Bayview Structural Enginers", "Bayview Structural Engineers", threshold=99.0) == []
    assert one("Harbor Design Group", "Harbour Design Grp", threshold=80.0)
    assert one("Harbor Design Group", "Harbour Design Grp", threshold=95.0) == []


# --- what is never suggested ----------------------------------------------------------------------------------

def test_exact_key_equal_pairs_are_never_suggested():
    ajera, crm = sides(
        {"A1": "Morris Holdings", "A2": "Bayview  Engineers"},
        {"C1": "MORRIS HOLDINGS", "C2": "bayview engineers ", "C3": "Morris Holdings LLC"},
    )
    result = suggest(ajera, crm)
    # A1 and A2 have exact same-name partners (the linker pairs them), so neither is offered C3 either.
    assert pairs(result) == set()
    ajera, crm = sides({"A1": "Morris Holdings", "A3": "Morris Holdings Inc."},
                       {"C1": "MORRIS HOLDINGS", "C3": "Morris Holdings LLC"})
    result = suggest(ajera, crm)
    assert pairs(result) == {("A3", "C3")}
    for s in result:
        assert exact_key(s.ajera_name) != exact_key(s.crm_name)


def test_names_with_other_numbers_are_never_suggested():
    # A crash between a create and its mapping leaves "Bulk Building 00368" unmapped in the CRM: it must not
    # hold back the creates of every other numbered building as "similar".
    ajera, crm = sides({"A1": "Bulk Building 00369", "A2": "Main Street Phase 2", "A3": "Elm School Wing 3"},
                       {"C1": "Bulk Building 00368", "C2": "Main Street Phase 3", "C3": "Elm School Wing 3 "})
    assert pairs(suggest(ajera, crm)) == set()
    ajera, crm = sides({"A1": "Elm Schol Wing 3"}, {"C1": "Elm School Wing 3"})
    assert pairs(suggest(ajera, crm)) == {("A1", "C1")}


def test_empty_and_whitespace_names_match_nothing():
    ajera, crm = sides({"A1": "", "A2": "   ", "A3": "The Inc", "A4": "Real Name"},
                       {"C1": "", "C2": " \t", "C3": "The", "C4": "Real Name LLC"})
    assert pairs(suggest(ajera, crm)) == {("A4", "C4")}


def test_skip_pairs_are_left_out_and_do_not_take_a_slot():
    ajera, crm = sides(
        {"A1": "Morris Holdings"},
        {"C1": "Morris Holdings LLC", "C2": "Morris Holdings Inc", "C3": "The Morris Holdings"},
    )
    assert pairs(suggest(ajera, crm)) == {("A1", "C1"), ("A1", "C2"), ("A1", "C3")}
    assert pairs(suggest(ajera, crm, skip_pairs={("A1", "C2")})) == {("A1", "C1"), ("A1", "C3")}
    assert pairs(suggest(ajera, crm, skip_pairs=[("A1", "C1")], max_per_record=2)) == {("A1", "C2"), ("A1", "C3")}


def test_fuzzy_skip_pairs_are_left_out():
    ajera, crm = sides({"A1": "Bayview Structural Enginers"}, {"C1": "Bayview Structural Engineers"})
    assert suggest(ajera, crm, skip_pairs={("A1", "C1")}) == []


def test_max_per_record_keeps_the_best():
    ajera, crm = sides(
        {"A1": "Bayview Structural Engineers", "A2": "Other Name"},
        {
            "C1": "Bayview Structural Engineers Inc",  # normalised, 100
            "C2": "Bayveiw Structural Enginers",  # fuzzy, lower
            "C3": "Bayview Structurl Enginers",  # fuzzy, lower
            "C4": "Bayview Structural Engineer",  # fuzzy ~98
            "C5": "Other Name LLC",
        },
    )
    result = suggest(ajera, crm, max_per_record=2)
    assert [(s.ajera_key, s.crm_key, s.method) for s in result] == [
        ("A1", "C1", "normalised"), ("A1", "C4", "fuzzy"), ("A2", "C5", "normalised"),
    ]
    assert len(suggest(ajera, crm, max_per_record=3)) == 4
    assert suggest(ajera, crm, max_per_record=0) == []


def test_a_normalised_pair_beats_a_fuzzy_100_for_the_last_slot():
    ajera, crm = sides({"A1": "Smith Jones Architects"},
                       {"C1": "Jones Smith Architects", "C2": "Smith Jones Architects LLC"})
    assert [(s.crm_key, s.method) for s in suggest(ajera, crm, max_per_record=1)] == [("C2", "normalised")]
    assert [(s.crm_key, s.method, s.score) for s in suggest(ajera, crm)] == [
        ("C1", "fuzzy", 100.0), ("C2", "normalised", 100.0),
    ]


def test_only_records_sharing_a_block_are_compared():
    ajera, crm = sides({"A1": "Bayview Structural Enginers", "A2": "Zephyr"},
                       {"C1": "Bayview Structural Engineers", "C2": "Quantum Widgets", "C3": "Orchard Lane Farms"})
    result, comparisons = suggest_with_stats(ajera, crm)
    assert pairs(result) == {("A1", "C1")}
    assert comparisons == 1


def test_comparisons_per_record_are_capped():
    ajera, crm = sides({"A1": "Granite Peak Surveying"},
                       {f"C{i:03d}": f"Granite Peak Surveying {chr(97 + i // 26)}{chr(97 + i % 26)}"
                        for i in range(40)})
    result, comparisons = suggest_with_stats(ajera, crm, max_comparisons_per_record=10)
    assert comparisons == 10 and len(result) == 3


def test_blocks_above_the_frequency_limit_are_cut():
    # Every key "Granite Peak Surveying" has is shared by 200 CRM records (> MAX_BLOCK): no block is used,
    # so no fuzzy comparison is made at all. This is the documented price of bounded blocks.
    ajera, crm = sides({"A1": "Granite Peak Surveying"},
                       {f"C{i:03d}": f"Granite Peak Surveying {i}" for i in range(200)})
    assert suggest_with_stats(ajera, crm) == ([], 0)


def test_the_block_cap_is_fixed_whatever_the_number_of_records():
    # 60 CRM records share every key of "Granite Peak Surveying": over the cap of 50 however many other records
    # there are (a cap that grew with N, as 1% of 10,000 did, kept such blocks and grew the work per record).
    crm_names = {f"C{i:03d}": f"Granite Peak Surveying {i}" for i in range(60)}
    crm_names.update({f"X{i:05d}": f"Unrelated Firm {i:05d}" for i in range(10_000)})
    ajera, crm = sides({"A1": "Granite Peak Surveying"}, crm_names)
    assert suggest_with_stats(ajera, crm) == ([], 0)


def test_output_is_sorted_and_deterministic_whatever_the_input_order():
    ajera_names = {"A2": "Morris Holdings", "A1": "Bayview Structural Enginers", "A3": "Eagle Ridge Parks & Rec"}
    crm_names = {"C9": "Morris Holdings, LLC", "C1": "Bayview Structural Engineers", "C2": "Morris Holding",
                 "C3": "The Eagle Ridge Parks and Rec", "C4": "Eagle Ridge Park and Rec"}
    ajera, crm = sides(ajera_names, crm_names)
    first = suggest(ajera, crm)
    assert first == sorted(first, key=lambda s: (s.ajera_key, -s.score, s.crm_key))
    for seed in range(5):
        rng = random.Random(seed)
        a2, c2 = ajera[:], crm[:]
        rng.shuffle(a2)
        rng.shuffle(c2)
        assert suggest(a2, c2) == first


def test_duplicate_keys_are_counted_once():
    ajera = [rec("ajera", "A1", "Morris Holdings")] * 3
    crm = [rec("crm", "C1", "Morris Holdings LLC")] * 3
    assert len(suggest(ajera, crm)) == 1


# --- property ---------------------------------------------------------------------------------------------------

WORDS = ["Morris", "Holdings", "Bayview", "Bayveiw", "Structural", "Engineers", "Enginers", "The", "and", "&",
         "LLC", "Inc", "Café", "Cafe", "Group", "Smith", "Smyth", "Design", "Designs", "Co", "Ltd", "J.", "J"]
names = st.one_of(
    st.lists(st.sampled_from(WORDS), min_size=0, max_size=5).map(" ".join),
    st.text(alphabet="abcAB &.,-é ", max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(
    ajera_names=st.lists(names, max_size=12),
    crm_names=st.lists(names, max_size=12),
    threshold=st.floats(min_value=50, max_value=100),
    max_per_record=st.integers(min_value=1, max_value=4),
    skip_mask=st.integers(min_value=0),
)
def test_property_every_suggestion_is_sound(ajera_names, crm_names, threshold, max_per_record, skip_mask):
    ajera = {f"A{i}": n for i, n in enumerate(ajera_names)}
    crm = {f"C{i}": n for i, n in enumerate(crm_names)}
    every = [(a, c) for a in sorted(ajera) for c in sorted(crm)]
    skip = {pair for bit, pair in enumerate(every) if skip_mask >> bit & 1}
    result = suggest(*sides(ajera, crm), threshold=threshold, max_per_record=max_per_record, skip_pairs=skip)

    assert len(pairs(result)) == len(result)  # no duplicates
    assert result == sorted(result, key=lambda s: (s.ajera_key, -s.score, s.crm_key))
    per_record: dict[str, int] = {}
    for s in result:
        per_record[s.ajera_key] = per_record.get(s.ajera_key, 0) + 1
        assert (s.ajera_name, s.crm_name) == (ajera[s.ajera_key], crm[s.crm_key])
        assert exact_key(s.ajera_name) != exact_key(s.crm_name)
        assert exact_key(s.ajera_name) and exact_key(s.crm_name)
        assert (s.ajera_key, s.crm_key) not in skip
        assert 0 <= s.score <= 100
        if s.method == "normalised":
            assert s.score == 100.0 and normalised(s.ajera_name) == normalised(s.crm_name)
        else:
            assert s.method == "fuzzy" and s.score >= threshold
            assert normalised(s.ajera_name) != normalised(s.crm_name)
    assert all(count <= max_per_record for count in per_record.values())

    # A record with an exact same-name partner on the other side is the linker's: never in a suggestion.
    ajera_exact = {exact_key(n) for n in ajera.values()}
    crm_exact = {exact_key(n) for n in crm.values()}
    for s in result:
        assert exact_key(s.ajera_name) not in crm_exact and exact_key(s.crm_name) not in ajera_exact

    # Rule 1 is complete: an Ajera record with a normalised partner it may be offered gets a score-100 suggestion.
    # A record with an exact same-name partner on the other side is the linker's: neither offered nor offered to.
    ajera_exact = {exact_key(n) for n in ajera.values()}
    crm_exact = {exact_key(n) for n in crm.values()}
    for a_key, a_name in ajera.items():
        if exact_key(a_name) in crm_exact:
            continue
        partners = [c for c, c_name in crm.items()
                    if normalised(a_name) and normalised(a_name) == normalised(c_name)
                    and exact_key(a_name) != exact_key(c_name) and (a_key, c) not in skip
                    and exact_key(c_name) not in ajera_exact]
        if partners:
            assert any(s.ajera_key == a_key and s.score == 100.0 for s in result)


# --- scale ------------------------------------------------------------------------------------------------------

SURNAMES = """Adams Allen Baker Barnes Bell Bennett Brooks Brown Bryant Butler Campbell Carter Clark Collins Cook
Cooper Cox Davis Diaz Edwards Evans Fisher Flores Foster Garcia Gonzalez Gray Green Griffin Hall Harris Hayes
Henderson Hill Howard Hughes Jackson James Jenkins Johnson Jones Kelly King Lee Lewis Long Lopez Martin Martinez
Miller Mitchell Moore Morgan Morris Murphy Nelson Parker Perez Perry Peterson Phillips Powell Price Ramirez Reed
Richardson Rivera Roberts Robinson Rodriguez Rogers Ross Russell Sanchez Sanders Scott Simmons Smith Stewart
Sullivan Taylor Thomas Thompson Torres Turner Walker Ward Washington Watson White Williams Wilson Wood Wright
Young Abbott Acosta Aguilar Alexander Alvarez Andrews Armstrong Arnold Atkinson Austin Bailey Baldwin Banks
Barker Barrett Bates Beck Berry Bishop Black Blair Bowman Boyd Bradley Burke Burns Bush Caldwell Carlson
Carpenter Carroll Castro Chambers Chapman Chavez Cole Coleman Craig Crawford Cunningham Curtis Daniels Dawson
Dean Dixon Douglas Duncan Dunn Elliott Ellis Ferguson Fields Fleming Fletcher Ford Fowler Franklin Freeman
Fuller Gardner Garrett Gibson Gilbert Gordon Graham Grant Greene Hamilton Hansen Hanson Harper""".split()
KINDS = """Engineering Engineers Architects Architecture Design Designs Builders Construction Contractors
Consulting Consultants Surveying Planning Partners Associates Group Holdings Properties Development Developers
Landscape Structural Environmental Electric Mechanical Plumbing Roofing Paving Excavating Survey""".split()
SUFFIXES = ["", "Inc", "LLC", "Ltd", "Corp", "Co", "PC", "LLP"]


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]  # two letters swapped
    return word[:i] + word[i + 1:]  # a letter dropped


def test_scale_20k_per_side_is_near_linear_and_finds_planted_near_misses():
    rng = random.Random(20240611)
    n = 20_000
    triples: set[tuple[str, str, str]] = set()
    while len(triples) < 2 * n:
        first, second = rng.sample(SURNAMES, 2)
        triples.add((first, second, rng.choice(KINDS)))
    ordered = sorted(triples)
    rng.shuffle(ordered)
    # The two sides share no normalised name, so the only true near-misses are the planted ones.
    ajera_triples, crm_triples = ordered[:n], ordered[n:]

    def name(triple: tuple[str, ...]) -> str:
        return " ".join([*triple, rng.choice(SUFFIXES)]).strip()

    ajera = [rec("ajera", f"A{i:05d}", name(t)) for i, t in enumerate(ajera_triples)]
    crm = [rec("crm", f"C{i:05d}", name(t)) for i, t in enumerate(crm_triples)]

    planted_fuzzy: set[tuple[str, str]] = set()
    planted_norm: set[tuple[str, str]] = set()
    for j, i in enumerate(rng.sample(range(n), 200)):
        triple = list(ajera_triples[i])
        key = f"P{j:03d}"
        if j % 2:  # a typo in one word (words are long enough to stay >= 90)
            w = rng.randrange(3)
            triple[w] = _typo(rng, triple[w])
            crm.append(rec("crm", key, " ".join(triple)))
            planted_fuzzy.add((ajera[i].key, key))
        else:  # same name under other casing, punctuation and legal suffix
            crm.append(rec("crm", key, "The " + ", ".join(triple).upper() + ", LLC"))
            planted_norm.add((ajera[i].key, key))

    result, comparisons = suggest_with_stats(ajera, crm)
    found = pairs(result)
    records = len(ajera)
    print(f"\n20k x 20k: {comparisons} comparisons ({comparisons / records:.1f}/record), {len(result)} suggestions")

    assert comparisons < 40 * records
    assert planted_norm <= found
    missed = planted_fuzzy - found
    assert len(missed) <= len(planted_fuzzy) // 50, sorted(missed)[:10]  # >= 98% of the typos found
    by_pair = {(s.ajera_key, s.crm_key): s for s in result}
    assert all(by_pair[p].method == "normalised" for p in planted_norm)
    assert all(by_pair[p].method == "fuzzy" for p in planted_fuzzy & found)
