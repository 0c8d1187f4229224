"""What follows a committed movement: the one place that reacts to money and days moving.

The ledgers write and return; the unit of work hands every movement of a
committed transaction here, once, in order. From them this module decides:

- **events**: each movement is published with the rows its subscribers show
  (the wallet and the entry, the partner and the day entry);
- **threshold alerts**: a wallet or day balance that crossed its low
  threshold, either way, has its alert reconciled with the balance as it is
  now (``alerts.reconcile``);
- **auto-recharge**: a wallet that crossed its recharge threshold downwards
  asks the payment gateway, on its own task, once per crossing however many
  debits crossed together (they serialise on the wallet row, so one of them
  is the crossing).

Renewals and payments plug in here next: a top-up that lifts a paused
renewal, days bought that let one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.domain import alerts, recharge, unit_of_work
from backend.domain.day_ledger import DayMovement
from backend.domain.ledger import Movement
from backend.events import changes
from backend.events.bus import Event


def _crossed(before: int, after: int, threshold: int | None) -> bool:
    """Did the balance move across ``threshold``, in either direction?"""
    if threshold is None:
        return False
    return (before >= threshold) != (after >= threshold)


def _spans(movements: Sequence[Any], kind: type, key: str) -> dict[int, tuple[Any, Any]]:
    """For each account the unit moved: its first and last movement, in order."""
    spans: dict[int, tuple[Any, Any]] = {}
    for movement in movements:
        if isinstance(movement, kind):
            account = getattr(movement, key)
            first = spans.get(account, (movement, movement))[0]
            spans[account] = (first, movement)
    return spans


class Reactions:
    def events(self, movements: Sequence[Any]) -> list[Event]:
        made = []
        for movement in movements:
            if isinstance(movement, Movement):
                made.append(
                    changes.balance_moved(
                        wallet=movement.wallet_row,
                        partner_id=movement.partner_id,
                        entry=movement.entry_row,
                    )
                )
            elif isinstance(movement, DayMovement):
                made.append(
                    changes.days_moved(partner=movement.partner_row, entry=movement.entry_row)
                )
        return made

    async def react(self, movements: Sequence[Any]) -> None:
        for wallet_id, (first, last) in _spans(movements, Movement, "wallet_id").items():
            before, after = first.balance_before_micros, last.balance_after_micros
            row = last.wallet_row
            if _crossed(before, after, row["low_balance_threshold_micros"]):
                await alerts.reconcile(alerts.LOW_BALANCE, wallet_id)
            recharge_at = row["recharge_threshold_micros"]
            if recharge_at is not None and before >= recharge_at > after:
                recharge.start_attempt(wallet_id)
        for partner_id, (first, last) in _spans(movements, DayMovement, "partner_id").items():
            threshold = last.partner_row["low_days_threshold"]
            if _crossed(first.balance_before, last.balance_after, threshold):
                await alerts.reconcile(alerts.LOW_DAYS, partner_id)


def install() -> None:
    unit_of_work.install_reactor(Reactions())
