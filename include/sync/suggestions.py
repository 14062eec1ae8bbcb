"""Match *suggestions* beyond exact names (DESIGN.md §4 step 4): candidate pairs for a person to review.

Nothing here links records. The linker pairs records whose :func:`~include.sync.names.exact_key` is equal;
what is left unmapped on each side of one record type is passed here, and the pairs returned go to the
match suggestions table to be accepted or rejected by a person.

Two rules, first one wins for a pair:

1. ``normalised`` names equal (case, accents, punctuation, ``&``/``and``, legal suffixes, a leading "The")
   → score 100, method ``"normalised"``.
2. Otherwise a fuzzy score of the normalised names ≥ ``threshold`` → method ``"fuzzy"``, only between names
   with the same numbers ("Phase 2" is not a typo of "Phase 3").

A record with an exact same-name partner on the other side gets no suggestion and is offered to no one: the
same-name check links such pairs.

Blocking keeps the work near-linear, never all pairs:

* Rule 1 is a dict lookup: CRM records are indexed by normalised name.
* Rule 2 compares an Ajera record only with CRM records that share a *blocking key* with it:

  - ``t:<token>``   each normalised token of ≥ 3 characters that is not a stop word;
  - ``b:<a> <b>``   each pair of normalised tokens at most two apart, in sorted order. Pairs are much rarer
                    than their words, so names made only of common words ("Smith Jones Engineering") stay
                    findable once their single words are cut as too common; and as a pair skips one word,
                    a typo in any one word of a name of three or more words leaves a pair intact;
  - ``p:<abcd>``    the first 4 characters of the normalised name.

  A key shared by more than ``MAX_BLOCK`` (50) CRM records is dropped (a document-frequency
  cut), so no block can grow with the data. The CRM records reached through the remaining keys are counted
  (the keys each shares with the Ajera record, weighted by rarity; each candidate once however many blocks it
  is in), and only the ``max_comparisons_per_record`` best of them (highest weight, then closest length, then
  CRM key) are scored, with ``rapidfuzz.process.extract`` and a ``score_cutoff``. The number of scored pairs
  is therefore at most ``max_comparisons_per_record`` × the number of Ajera records, and is reported by
  :func:`suggest_with_stats` as ``comparisons``. The price: a record all of whose keys are cut as too common
  gets no fuzzy suggestions (rule 1 still applies), and a true partner outranked by more than
  ``max_comparisons_per_record`` better-blocked candidates is missed. Suggestions are best effort by design.

Pure Python, no I/O.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from rapidfuzz import fuzz, process

from include.sync.names import exact_key, normalised

# Words too common or too short to say anything about a name; the document-frequency cut handles the rest.
STOP_WORDS = frozenset({
    "and", "the", "of", "for", "a", "an", "in", "at", "on", "to", "by", "de", "la", "le", "del", "van", "von",
})
_NUMBER = re.compile(r"\d+")
MIN_TOKEN_LEN = 3
PREFIX_LEN = 4
# A blocking key shared by more CRM records than this is dropped: a fixed cap, so the work per record stays
# the same however many records there are (a cap that grew with the data made suggestions super-linear:
# 1,739 µs per record at a million).
MAX_BLOCK = 50
DEFAULT_MAX_COMPARISONS = 25

# The fuzzy score: the higher of fuzz.ratio and fuzz.token_sort_ratio of the normalised names (both are an
# edit-distance ratio, the second with the words sorted first).
# * token_sort_ratio makes word order not matter ("Smith Jones" ~ "Jones Smith"), but a typo in a word's
#   first letters can move it in the sort and sink the score ("sullivan johnson surveying" vs "... srveying"
#   is 63), so plain ratio, which keeps the order, covers that case (98).
# * Unlike WRatio/partial_ratio/token_set_ratio, neither scores a name highly just because it is contained in
#   a longer one ("Summit" vs "Summit Medical Center" is 90 under WRatio and 100 under token_set_ratio, 44
#   here): extra or different words cost points, while a typo or two in a longer name stays well above 90.
#   Suggestions are reviewed by people, so it is better to be strict and short than generous and noisy.
SCORERS = (fuzz.ratio, fuzz.token_sort_ratio)


@dataclass(frozen=True)
class Suggestion:
    ajera_key: str
    crm_key: str
    ajera_name: str
    crm_name: str
    score: float  # 0..100
    method: str  # "normalised" (normalised names equal) | "fuzzy"


class Named(Protocol):
    """What a suggestion reads of a record: its key and name (a swept or whole ``Record``, or a planner stub)."""

    @property
    def key(self) -> str: ...

    @property
    def name(self) -> str: ...


class Suggester(Protocol):
    """What the planner calls for suggestions: :func:`suggest` with its defaults, or a memo of it
    (``include.sync.suggestion_memo``)."""

    def __call__(self, ajera: Sequence[Named], crm: Sequence[Named],
                 skip_pairs: Collection[tuple[str, str]]) -> list[Suggestion]: ...


@dataclass(frozen=True)
class _Item:
    key: str
    name: str
    exact: str
    norm: str
    numbers: tuple[int, ...]  # the numbers in the name: "Building 368" and "Building 369" are two buildings


def _items(records: Iterable[Named]) -> list[_Item]:
    """Records with a usable name, one per key (first wins), sorted by key so output never depends on order."""
    seen: dict[str, _Item] = {}
    for rec in records:
        key = str(rec.key)
        if key in seen:
            continue
        exact = exact_key(rec.name)
        norm = normalised(rec.name)
        if not exact or not norm:
            continue  # empty or whitespace names (or names that are nothing but "The Inc") match nothing
        seen[key] = _Item(key, rec.name, exact, norm, tuple(int(n) for n in _NUMBER.findall(norm)))
    return [seen[key] for key in sorted(seen)]


def _block_keys(norm: str) -> list[str]:
    words = norm.split()
    keys: list[str] = []
    for word in words:
        if len(word) >= MIN_TOKEN_LEN and word not in STOP_WORDS:
            keys.append("t:" + word)
    for gap in (1, 2):
        for first, second in zip(words, words[gap:]):
            keys.append("b:" + " ".join(sorted((first, second))))
    keys.append("p:" + norm[:PREFIX_LEN])
    return list(dict.fromkeys(keys))  # unique, in a stable order


def suggest_with_stats(
    ajera: Iterable[Named],
    crm: Iterable[Named],
    *,
    threshold: float = 90.0,
    max_per_record: int = 3,
    skip_pairs: Collection[tuple[str, str]] = (),
    max_comparisons_per_record: int = DEFAULT_MAX_COMPARISONS,
) -> tuple[list[Suggestion], int]:
    """Like :func:`suggest`, and also the number of fuzzy comparisons (scored pairs) it made."""
    if max_per_record <= 0:
        return [], 0
    skip = {(str(a), str(c)) for a, c in skip_pairs}
    ajera_items = _items(ajera)
    crm_items = _items(crm)
    # A record with an exact same-name partner on the other side is the linker's (the same-name check pairs
    # them): suggesting it with other names would only hold back creates of records that merely look alike.
    ajera_exact = {item.exact for item in ajera_items}
    crm_exact_all = {item.exact for item in crm_items}
    ajera_items = [item for item in ajera_items if item.exact not in crm_exact_all]
    index = _CrmIndex([item for item in crm_items if item.exact not in ajera_exact])

    out: list[Suggestion] = []
    comparisons = 0
    for item in ajera_items:
        found = index.normalised(item, skip, max_per_record)
        candidates = index.candidates(item, skip, max_comparisons_per_record)
        comparisons += len(candidates)
        found += index.fuzzy(item, candidates, threshold)
        # Best first; at equal score a normalised pair beats a fuzzy one (e.g. reordered words) for a slot.
        found.sort(key=lambda s: (-s.score, s.method != "normalised", s.crm_key))
        out.extend(found[:max_per_record])

    out.sort(key=lambda s: (s.ajera_key, -s.score, s.crm_key))
    return out, comparisons


class _CrmIndex:
    """The CRM records a suggestion can name, indexed by normalised name (rule 1) and by blocking key (rule 2)."""

    def __init__(self, items: list[_Item]) -> None:
        self.items = items  # sorted by key, so every list below is too
        self.by_norm: dict[str, list[int]] = {}
        self.blocks: dict[str, list[int]] = {}
        for index, item in enumerate(items):
            self.by_norm.setdefault(item.norm, []).append(index)
            for block in _block_keys(item.norm):
                self.blocks.setdefault(block, []).append(index)
        self.lengths = [len(item.norm) for item in items]
        # A shared key counts for more the rarer it is (inverse document frequency): sharing "cox consultants"
        # (3 records) says much more than sharing the prefix "alva" (150 records).
        self.weights = [0.0] + [math.log(1 + len(items) / size) for size in range(1, MAX_BLOCK + 1)]
        self.norm = [item.norm for item in items]
        self.exact = [item.exact for item in items]
        self.keys = [item.key for item in items]
        self.numbers = [item.numbers for item in items]

    def normalised(self, item: _Item, skip: set[tuple[str, str]], max_per_record: int) -> list[Suggestion]:
        """Rule 1: normalised names equal."""
        found: list[Suggestion] = []
        for index in self.by_norm.get(item.norm, ()):
            other = self.items[index]
            if other.exact == item.exact or (item.key, other.key) in skip:
                continue
            found.append(Suggestion(item.key, other.key, item.name, other.name, 100.0, "normalised"))
            if len(found) >= max_per_record:
                break  # by_norm lists are in CRM key order, the order they would be kept in anyway
        return found

    def candidates(self, item: _Item, skip: set[tuple[str, str]], cap: int) -> list[int]:
        """Rule 2's candidates: the ``cap`` CRM records sharing the most (and rarest) blocks with ``item``, then
        the closest in length, then by key; none above the block cap is reached, so the work per record is
        bounded whatever the number of records."""
        shared: dict[int, float] = {}
        get = shared.get
        for block in _block_keys(item.norm):
            members = self.blocks.get(block)
            if members and len(members) <= MAX_BLOCK:
                weight = self.weights[len(members)]
                for index in members:
                    shared[index] = get(index, 0.0) + weight
        pool: Iterable[int] = shared
        if len(shared) > 2 * cap:  # cheap C-level pre-cut on the weight alone before the finer ranking below
            pool = heapq.nlargest(2 * cap, shared, key=shared.__getitem__)
        candidates = self._usable(pool, item, skip)
        if len(candidates) < cap and pool is not shared:  # the pre-cut kept too few usable ones: use them all
            candidates = self._usable(shared, item, skip)
        size, lengths = len(item.norm), self.lengths
        candidates.sort(key=lambda i: (-shared[i], abs(lengths[i] - size), i))
        return candidates[:cap]

    def _usable(self, pool: Iterable[int], item: _Item, skip: set[tuple[str, str]]) -> list[int]:
        """Fuzzy candidates: not a rule-1 pair, not an exact pair, not skipped."""
        norm, exact, key, numbers = item.norm, item.exact, item.key, item.numbers
        crm_norm, crm_exact, crm_keys, crm_numbers = self.norm, self.exact, self.keys, self.numbers
        return [i for i in pool if crm_norm[i] != norm and crm_exact[i] != exact and crm_numbers[i] == numbers
                and (not skip or (key, crm_keys[i]) not in skip)]

    def fuzzy(self, item: _Item, candidates: list[int], threshold: float) -> list[Suggestion]:
        """Rule 2: the candidates whose fuzzy score reaches ``threshold``."""
        if not candidates:
            return []
        choices = [self.norm[index] for index in candidates]
        best: dict[int, float] = {}
        for scorer in SCORERS:
            for _, score, position in process.extract(
                item.norm, choices, scorer=scorer, processor=None, limit=None, score_cutoff=threshold
            ):
                if score >= threshold:  # rapidfuzz's cutoff has a float tolerance: 50.0 passes a 50.00000000000001
                    best[position] = max(best.get(position, 0.0), float(score))
        return [Suggestion(item.key, self.keys[candidates[position]], item.name,
                           self.items[candidates[position]].name, score, "fuzzy")
                for position, score in best.items()]


def decided(reviewed: Mapping[tuple[str, str], str]) -> set[tuple[str, str]]:
    """Of the pairs in the suggestion table ((Ajera key, CRM key) -> status), those never suggested again: a
    person accepted or rejected them, or a run linked them. A pair still proposed is suggested again (the
    same pairs, run after run, while the names do not change), and stored and logged only the first time."""
    return {pair for pair, status in reviewed.items() if status != "proposed"}


def suggest(
    ajera: Iterable[Named],
    crm: Iterable[Named],
    *,
    threshold: float = 90.0,
    max_per_record: int = 3,
    skip_pairs: Collection[tuple[str, str]] = (),
    max_comparisons_per_record: int = DEFAULT_MAX_COMPARISONS,
) -> list[Suggestion]:
    """Candidate pairs between the *unmapped* records of one record type, for a person to review.

    ``ajera``/``crm`` are the records left unmapped after exact matching; a pair whose ``exact_key`` is equal
    is never suggested (linking those is the linker's job). ``skip_pairs`` holds ``(ajera_key, crm_key)``
    pairs left out (:func:`decided`). At most ``max_per_record`` suggestions
    per Ajera record, best first; the result is sorted by ``(ajera_key, -score, crm_key)``.
    """
    return suggest_with_stats(
        ajera, crm, threshold=threshold, max_per_record=max_per_record, skip_pairs=skip_pairs,
        max_comparisons_per_record=max_comparisons_per_record,
    )[0]


def plain(ajera: Sequence[Named], crm: Sequence[Named], skip_pairs: Collection[tuple[str, str]]) -> list[Suggestion]:
    """:func:`suggest` with its defaults, as a :class:`Suggester`."""
    return suggest(ajera, crm, skip_pairs=skip_pairs)
