"""What a quiet run costs: the Ajera calls of a run with nothing edited, per record type and method.

Counted on the simulator (``/_sim/stats``), never timed. The same world at two sizes must make the same
number of calls per record type: a quiet run's cost may not grow with the number of records.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import MetaData, create_engine

from include.clients.ajera import ENTITY_KEYS
from include.sync import record_types, review
from include.sync.staging import load_refs, load_staged
from include.sync.systems import AjeraSide, CrmSide
from simulators import datagen
from tests.support.engine import SMALL, Engine, start_engine, stop_engine
from tests.support.record_sync import a_create, a_update, log_rows, make_crm, pairs, query

# The ENTITY_KEYS entity of each method's name (ListProjects, GetProjects, UpdateProjects -> Projects);
# other methods (sessions, templates, timesheets, totals) are counted under their own name.
_PREFIXES = ("List", "Get", "Update", "Create")
# No overlap window: with one, a record the last minutes' runs wrote is read again, rightly, until the
# window has passed it; a test that does not wait minutes sees a run that is not yet quiet.
QUIET = {"overlap_minutes": 0}


def by_record_type(stats: dict[str, int]) -> dict[str, Counter[str]]:
    """Simulator stats (method -> calls) grouped as entity -> method -> calls; bookkeeping keys dropped."""
    out: dict[str, Counter[str]] = {}
    for method, calls in stats.items():
        if method.startswith("_"):
            continue
        entity = next((method[len(p):] for p in _PREFIXES if method.startswith(p) and method[len(p):] in ENTITY_KEYS),
                      method)
        out.setdefault(entity, Counter())[method] += calls
    return out


def scaled(factor: int) -> datagen.Sizes:
    return datagen.Sizes(firms=SMALL.firms * factor, contacts=SMALL.contacts * factor,
                         employees=SMALL.employees * factor, vendors=SMALL.vendors * factor,
                         projects=SMALL.projects * factor, templates=SMALL.templates)


def empty(url: str) -> None:
    """Drop every table of the sync database, so the next world starts on a fresh one."""
    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        meta.drop_all(engine)
    finally:
        engine.dispose()


def written(engine: Engine, run_id: str) -> int:
    """Records created, updated or linked by the run (integration log)."""
    return sum(n for (_, _, action), n in engine.counts(run_id).items() if action in ("created", "updated", "mapped"))


def quiet_calls(sync_db_url: str, factor: int) -> tuple[dict[str, Counter[str]], dict[str, int]]:
    """(Ajera calls by entity and method, CRM calls by route) of a quiet run: a run of a world nobody edits,
    after the runs that settle it (the second still reads what the first wrote, and a contact linked to its
    firm in one run is written the next)."""
    engine, parts = start_engine(sync_db_url, datagen.generate(seed=7, sizes=scaled(factor)))
    try:
        for _ in range(4):
            assert engine.sync(**QUIET).completed
            if not written(engine, f"test-run-{engine.runs:03d}"):
                break
        else:
            pytest.fail("the world did not settle in four runs")
        engine.ajera_sim.reset_stats()
        engine.crm_sim.reset_stats()
        summary = engine.sync(**QUIET)
        assert summary.completed and not written(engine, f"test-run-{engine.runs:03d}")
        ajera = by_record_type(engine.ajera_sim.stats())
        crm = {k: v for k, v in engine.crm_sim.stats().items() if not k.startswith("_")}
        return ajera, crm
    finally:
        stop_engine(parts)


def test_quiet_run_calls_do_not_grow_with_the_records(sync_db_url: str) -> None:
    small, small_crm = quiet_calls(sync_db_url, 1)
    empty(sync_db_url)
    large, large_crm = quiet_calls(sync_db_url, 4)
    for entity in ENTITY_KEYS:
        assert large.get(entity) == small.get(entity), (
            f"{entity}: a quiet run made {dict(small.get(entity, {}))} Ajera calls at 1x and "
            f"{dict(large.get(entity, {}))} at 4x the records")
        # Only what the records need: at most the one Get of the records at the watermark itself (the
        # window starts there, inclusive); nothing left alone is read in full again.
        assert large[entity][f"Get{entity}"] <= 1, f"a quiet run read {entity} in full: {dict(large[entity])}"
    assert large_crm == small_crm, f"CRM calls of a quiet run: {small_crm} at 1x, {large_crm} at 4x the records"


def test_ajera_updates_follow_the_records_not_the_batches(engine: Engine) -> None:
    """Twelve firm changes in batches of four, every other one going to Ajera: the six Ajera writes fill
    two batches and go in two Update calls, not one in each of the three batches."""
    assert engine.sync(**QUIET).completed
    rt = record_types.get("firm")
    pairs = sorted((int(r.ajera_key), r.crm_key) for r in engine.mappings("firm"))[:12]
    refs = load_refs(engine.db, rt)
    ajera, crm = AjeraSide(engine.ajera, refs), CrmSide(engine.crm, refs)
    to_ajera = [crm_key for i, (_, crm_key) in enumerate(pairs) if i % 2 == 0]
    to_crm = [str(a) for i, (a, _) in enumerate(pairs) if i % 2 == 1]
    for n, crm_key in enumerate(to_ajera):
        crm.update(rt, crm_key, {"website": f"https://edited{n}.example.com"})
    records = ajera.fetch(rt, to_crm)
    assert not ajera.write(rt, {}, {r.key: ({**r.fields, "email": f"edited{r.key}@example.com"}, r.raw)
                                    for r in records}).errors
    engine.ajera_sim.reset_stats()
    assert engine.sync(record_types=("firm",), batch_size=4, **QUIET).completed
    updated = [r for r in engine.log(f"test-run-{engine.runs:03d}") if r.action == "updated"]
    assert len(updated) == 12, [(r.ajera_key, r.message) for r in updated]
    assert engine.ajera_sim.stats().get("UpdateClients") == 2


def test_deletions_wait_for_the_deletion_sweep(engine: Engine) -> None:
    """Between sweeps a run lists only what changed: a deleted CRM firm keeps its mapping until the sweep
    (every 24 h by default) lists every key; the summary says when the sweep last ran."""
    for _ in range(2):  # the second run's picture holds the firms the first one created
        assert engine.sync(**QUIET).completed
    swept_at = engine.db.scalar("last_full_sweep", {"record_type": "firm", "system": "crm"})
    pair = sorted((r.ajera_key, r.crm_key) for r in engine.mappings("firm"))[0]
    assert engine.crm.delete(record_types.get("firm").crm_hub, pair[1])
    engine.crm_sim.reset_stats()
    summary = engine.sync(record_types=("firm",), **QUIET)
    assert pair in {(r.ajera_key, r.crm_key) for r in engine.mappings("firm")}
    oldest = min(engine.db.scalar("last_full_sweep", {"record_type": "firm", "system": s}) for s in ("ajera", "crm"))
    assert f"  deletion sweep (every key listed, deleted records unlinked; every 24 h): last ran {oldest}" \
        in summary.lines()
    assert engine.db.scalar("last_full_sweep", {"record_type": "firm", "system": "crm"}) == swept_at
    summary = engine.sync(record_types=("firm",), deletion_sweep_hours=0, **QUIET)
    assert pair not in {(r.ajera_key, r.crm_key) for r in engine.mappings("firm")}
    assert engine.db.scalar("last_full_sweep", {"record_type": "firm", "system": "crm"}) > swept_at
    assert any(line.startswith("  deletion sweep (every key listed, deleted records unlinked; every run)")
               for line in summary.lines())


def test_a_crm_record_as_the_sync_last_read_it_is_not_read_again_within_the_overlap(engine: Engine) -> None:
    """The CRM firms the first run created fall in the next run's overlap window; their list rows carry the
    date their mappings hold, so they are staged bare, as if outside the window. One of them edited since
    has a later date: it is read, and its edit reaches Ajera."""
    assert engine.sync(record_types=("firm",)).completed  # the default 10-minute overlap
    rt = record_types.get("firm")
    created = {r.crm_key: r for r in engine.mappings("firm") if r.match_method == "created_in_crm"}
    assert len(created) >= 2, "the world has Ajera firms the first run creates in the CRM"
    edited = sorted(created)[0]
    CrmSide(engine.crm, load_refs(engine.db, rt)).update(rt, edited, {"website": "https://edited.example.com"})
    assert engine.sync(record_types=("firm",)).completed
    run_id = f"test-run-{engine.runs:03d}"
    read_whole = {key for key, record in load_staged(engine.db, run_id, rt, "crm").items() if record.raw is not None}
    assert edited in read_whole
    assert not (set(created) - {edited}) & read_whole, "CRM firms left as the first run created them were read"
    ajera_key = created[edited].ajera_key
    assert [r for r in engine.log(run_id) if r.action == "updated" and r.ajera_key == ajera_key]
    assert AjeraSide(engine.ajera, load_refs(engine.db, rt)).fetch(rt, [ajera_key])[0].fields["website"] \
        == "https://edited.example.com"


def test_a_record_held_for_review_is_left_to_the_picture_until_a_person_decides(engine: Engine) -> None:
    """A flagged CRM firm with a near-same-named Ajera firm waits for a person to accept or reject the match
    suggestion. While it does not change, runs leave it to the picture (no staged row, nothing logged again)
    and it stays held; once the suggestion is accepted, the next run reads it and links the pair."""
    assert engine.sync(record_types=("firm",), **QUIET).completed
    held = make_crm(engine, "firm", ("", ""))["ClientID"]
    near = a_create(engine, "firm", {"Description": "Brightwater Geotechnical Partners, LLC"})["ClientKey"]
    # A later edit elsewhere: the next run's watermark passes the two new firms (a window starts at it, inclusive).
    other = sorted(pairs(engine, "firm"))[0][1]
    engine.crm.update("firm", other, {"PrimaryPhone": "(555) 300-0003"})
    a_update(engine, "firm", sorted(pairs(engine, "firm"))[0][0], PrimaryPhoneNumber="(555) 300-0004")

    assert engine.sync(record_types=("firm",), **QUIET).completed
    [suggestion] = [s for s in query(engine, "SELECT id, ajera_key, crm_key, status FROM match_suggestion")
                    if s.crm_key == held]
    assert (suggestion.ajera_key, suggestion.status) == (str(near), "proposed")
    first = f"test-run-{engine.runs:03d}"
    assert [r.message for r in log_rows(engine, first, "firm", "skipped") if r.crm_key == held] == [
        "not created: a similar record on the other side is proposed as a match; accept or reject the match "
        "suggestion first"]

    assert engine.sync(record_types=("firm",), **QUIET).completed
    quiet = f"test-run-{engine.runs:03d}"
    assert held not in load_staged(engine.db, quiet, record_types.get("firm"), "crm", include_quarantined=True)
    assert not [r for r in engine.log(quiet) if r.crm_key == held or r.ajera_key == str(near)]
    assert query(engine, "SELECT last_run_id FROM pending_note WHERE crm_key = :k", k=held)[0].last_run_id == quiet

    review.accept_suggestion(engine.db, suggestion.id, "reviewer")
    assert engine.sync(record_types=("firm",), **QUIET).completed
    assert (str(near), held) in pairs(engine, "firm")
