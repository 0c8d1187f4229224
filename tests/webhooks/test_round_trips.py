"""The webhook hot path on PostgreSQL: at most 8 round trips for 10 delivered statuses.

Counted by a TCP proxy between the app and PostgreSQL (``round_trips.py``):
every Query and every Sync the driver sends is one wait for the server,
whoever sends it (ORM, hand-written SQL, BEGIN/COMMIT, statement preparation).
A structural count, not a timing: it does not depend on the machine's load.
"""

from __future__ import annotations

import pytest

from backend.db import close_db, init_db
from backend.domain.models import Conversation, LedgerEntry
from tests.webhooks.meta import body, status
from tests.webhooks.round_trips import counting
from tests.webhooks.test_whatsapp_webhook import balance

MAX_ROUND_TRIPS = 8
STATUSES = 10


def request_of(run: str) -> dict:
    return body(
        *(status(f"wamid.{run}.{n}", "delivered", f"49151100000{n:02d}") for n in range(STATUSES))
    )


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_ten_delivered_statuses_take_at_most_eight_round_trips(
    world, db, assert_ledger_invariants
):
    async with counting(db.url) as (counter, proxied):
        await close_db()
        await init_db(db.settings(proxied))
        try:
            # The first request prepares the statements on its connection (and
            # fills the rate-card cache): what a worker pays once, not per request.
            warm = await world.post(request_of("warm"))
            assert warm.json()["status"] == "PROCESSED", warm.json()
            trips = []
            for run in ("a", "b", "c"):
                before = counter.count
                response = await world.post(request_of(run))
                trips.append(counter.count - before)
                assert response.status_code == 200
                assert response.json()["status"] == "PROCESSED", response.json()
            # The same request again (Meta retries): nothing charged twice.
            retried = await world.post(request_of("a"))
            assert retried.json()["status"] == "PROCESSED"
        finally:
            await close_db()
            await init_db(db.settings())
    assert max(trips) <= MAX_ROUND_TRIPS, trips
    assert counter.count > 0  # the proxy did see the traffic it counts
    # Every status charged exactly once: 4 requests x 10 statuses, one entry each.
    assert await Conversation.all().count() == 4 * STATUSES
    references = await LedgerEntry.filter(kind="CONVERSATION_CHARGE").values_list(
        "reference", flat=True
    )
    assert sorted(references) == sorted(
        f"wamid.{run}.{n}" for run in ("warm", "a", "b", "c") for n in range(STATUSES)
    )
    # DE marketing 0.10 + 10% markup, 40 times.
    assert await balance(world) == "95.60"
    await assert_ledger_invariants()
