"""Each record type's CRM field map, round-tripped through the Vantagepoint simulator (a property test).

Generated records (the data generator's CRM records, with Hypothesis-drawn text in one field) are read
into canonical fields, written back as a new CRM record through the client (``to_crm``), read again, and
compared field by field: no synced field is lost or changed on the way, and no field the reference does
not list is sent (tests/reference/vantagepoint.json).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from include.clients.http import RetryPolicy
from include.clients.vantagepoint import VantagepointClient
from include.sync import record_types
from include.sync.refs import Refs
from simulators import datagen
from simulators.harness import CRM_LOGIN, start

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "vantagepoint.json").read_text())
WORLD = datagen.generate(seed=3, sizes=datagen.Sizes(firms=12, contacts=12, employees=6, vendors=4, projects=10,
                                                    templates=1))
TEXT_FIELDS = ("name", "phone", "email", "website", "address", "city", "state", "zip", "first_name",
               "middle_name", "last_name", "title")
KEYS = {"firm": "ClientID", "contact": "ContactID", "employee": "Employee", "project": "WBS1"}
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 &.,'-", min_size=1,
                max_size=30).map(str.strip).filter(bool)


@pytest.fixture(scope="module")
def vp() -> Iterator[VantagepointClient]:
    server = start("crm", seed=WORLD.crm)
    client = VantagepointClient(server.url, *CRM_LOGIN,
                                retry=RetryPolicy(attempts=2, base_delay=0.01), timeout=5)
    yield client
    client.close()
    server.stop()


def _refs() -> Refs:
    """Every CRM firm and employee counts as mapped, so references read and write back as themselves."""
    return Refs({t: [(f"K{i}", r[KEYS[hub]]) for i, r in enumerate(WORLD.crm[hub])]
                 for t, hub in (("firm", "firm"), ("employee", "employee"))})


def _records(t: str) -> list[dict[str, Any]]:
    rt = record_types.get(t)
    rows = WORLD.crm[rt.crm_hub]
    for name, _, value in rt.crm_filters:
        rows = [r for r in rows if r.get(name) == value]
    assert rows, t
    return rows


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(t=st.sampled_from(record_types.ORDER), pick=st.integers(0, 10_000), edit=st.none() | words,
       which=st.integers(0, 100))
def test_crm_field_map_round_trips_through_the_simulator(vp: VantagepointClient, t: str, pick: int,
                                                         edit: str | None, which: int) -> None:
    rt = record_types.get(t)
    refs = _refs()
    seed = _records(t)[pick % len(_records(t))]
    fields = {k: v for k, v in rt.from_crm(seed, refs).fields.items() if k in rt.synced}
    editable = [f for f in TEXT_FIELDS if f in fields]
    if edit is not None and editable:
        fields[editable[which % len(editable)]] = edit
    body = {**rt.crm_new_record, **rt.to_crm(fields, refs)}
    body.pop(rt.crm_key, None)  # a new record: the server gives it a key

    hub_fields = REF["hubs"][rt.crm_hub]["fields"]
    invented = sorted(set(body) - set(hub_fields))
    assert invented == [], f"{t} writes fields the reference does not list: {invented}"
    saved = vp.create(rt.crm_hub, body)
    read = vp.get(rt.crm_hub, saved[rt.crm_key])
    assert read is not None
    back = {k: v for k, v in rt.from_crm(read, refs).fields.items() if k in rt.synced}
    assert back == fields, {k: (fields.get(k), back.get(k)) for k in set(fields) | set(back)
                            if fields.get(k) != back.get(k)}

