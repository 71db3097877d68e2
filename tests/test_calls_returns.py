"""A callback to another of the customer's numbers returns the missed call whatever order the records arrive in
(handlers/calls.py promises records are "judged on their times, not on their arrival")."""

from __future__ import annotations

import pytest
from conftest import T0
from test_calls import CUSTOMER_PHONE, accept_call, alerts, seed_customer

from store import calls as calls_store
from store import customers as customer_store

MIN = 60_000
OFFICE = "021-5555 6666"  # the customer's switchboard, as the CRM wrote it


@pytest.fixture
def rt(runtime, store):
    seed_customer(store)
    with store.transaction():
        customer_store.add_key(store, "phone", calls_store.normalise_phone(OFFICE), "c1")
    runtime.clock.set(T0)
    return runtime


@pytest.mark.parametrize("callback_first", [False, True])
async def test_callback_to_the_customers_other_number_returns_the_call(rt, store, callback_first):
    await rt.settle()
    if callback_first:  # an unsorted export, imported 40 min later: the callback row comes first
        rt.clock.set(T0 + 40 * MIN)
        accept_call(rt, "c-2", T0 + 10 * MIN, direction="outbound", rep="r1")  # the rep rang the mobile
        accept_call(rt, "c-1", T0, phone=OFFICE)  # the missed call came from the office
    else:  # live: the missed call, then the callback ten minutes later
        accept_call(rt, "c-1", T0, phone=OFFICE)
        await rt.advance_to(T0 + 10 * MIN)
        accept_call(rt, "c-2", T0 + 10 * MIN, direction="outbound", rep="r1")
    await rt.advance_to(T0 + 2 * 60 * MIN)
    assert alerts(rt) == []
    (missed,) = [calls_store.get(store, i) for (i,) in store.conn.execute("SELECT id FROM missed_calls")]
    assert missed.status == "returned" and missed.returned_at == T0 + 10 * MIN and CUSTOMER_PHONE != missed.phone


async def test_a_call_to_another_customer_does_not_return_it(rt, store):
    await rt.settle()
    rt.clock.set(T0 + 40 * MIN)
    accept_call(rt, "c-2", T0 + 10 * MIN, direction="outbound", rep="r1", phone="13700001111")  # someone else
    accept_call(rt, "c-1", T0, phone=OFFICE)
    await rt.advance_to(T0 + 2 * 60 * MIN)
    assert sorted(d.target.person_id for d in alerts(rt)) == ["cs1", "m1", "r1"]
