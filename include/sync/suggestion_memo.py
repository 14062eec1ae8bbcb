"""Match suggestions made once per change of what they are made from, not once per planning step.

Suggestions depend only on the unmatched names of both sides and the pairs a person decided
(``suggestions.decided``). Both the match and the diff step of every run need them, and in a run where no
name moved (most runs) they are the same as last time; making them is the largest part of planning a quiet
run (6-8 s at M). The memo keeps the last ones per record type with a digest of their inputs, and hands them
back while the digest is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from functools import lru_cache
from pathlib import Path

import rapidfuzz

from include.sync.db import SyncDatabase
from include.sync.record_types import RecordType
from include.sync.suggestions import Named, Suggestion, plain


@lru_cache(maxsize=1)
def _rules() -> bytes:
    """What the suggestions also depend on: the code of the rules (names, suggestions) and the fuzzy scorer's
    version. Any change to them makes every digest new."""
    from include.sync import names, suggestions

    code = "".join(Path(str(m.__file__)).read_text() for m in (names, suggestions))
    return f"{code}\x00rapidfuzz {rapidfuzz.__version__}".encode()


class Memo:
    """A :class:`~include.sync.suggestions.Suggester` for one record type, backed by ``suggestion_memo``."""

    def __init__(self, db: SyncDatabase, rt: RecordType, run_id: str, store: bool = True) -> None:
        self.db, self.rt, self.run_id, self.store = db, rt, run_id, store  # store: False in a dry run
        self.made = 0  # how many times the suggestions were made rather than taken from the memo

    def __call__(self, ajera: Sequence[Named], crm: Sequence[Named],
                 skip_pairs: Collection[tuple[str, str]]) -> list[Suggestion]:
        key = digest(ajera, crm, skip_pairs)
        for row in self.db.rows("select_suggestion_memo", {"record_type": self.rt.name}):
            if row.digest == key:
                return [Suggestion(*fields) for fields in json.loads(row.suggestions)]
        found = plain(ajera, crm, skip_pairs)
        self.made += 1
        if not self.store:
            return found
        self.db.execute("upsert_suggestion_memo", {
            "record_type": self.rt.name, "digest": key, "run_id": self.run_id,
            "suggestions": json.dumps([[s.ajera_key, s.crm_key, s.ajera_name, s.crm_name, s.score, s.method]
                                       for s in found])})
        return found


def digest(ajera: Sequence[Named], crm: Sequence[Named], skip_pairs: Collection[tuple[str, str]]) -> str:
    """A digest of everything the suggestions are made from (in an order that does not matter to them)."""
    h = hashlib.sha256(_rules())
    for side in (ajera, crm):
        h.update(b"\x00side")
        for key, name in sorted((r.key, r.name) for r in side):
            h.update(f"{key}\x1f{name}\x1e".encode())
    h.update(b"\x00skip")
    for a, c in sorted(skip_pairs):
        h.update(f"{a}\x1f{c}\x1e".encode())
    return h.hexdigest()
