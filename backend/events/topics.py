"""Every topic name in one place, shared by the code that publishes and the code that listens.

A topic names who may listen: the object itself (``wallet:7``), its partner
(``partner:3:balance``) or its customer (``customer:9:balance``). ADMIN
streams listen to every event of a kind (``balance:*``). Control topics carry
no tenant data: they tell every worker to drop a cache (a revoked key, a new
rate card).
"""

from __future__ import annotations

# Kinds of event; each is also the last part of a tenant topic.
BALANCE = "balance"
DAYS = "days"
CHANNEL = "channel"
ALERT = "alert"
# Control events: every worker listens, whatever its subscribers.
API_KEY_REVOKED = "control:api_key_revoked"
RATE_CARDS_CHANGED = "control:rate_cards_changed"


def wallet(wallet_id: int) -> str:
    return f"wallet:{wallet_id}"


def channel(channel_id: int) -> str:
    return f"channel:{channel_id}"


def partner(partner_id: int, kind: str) -> str:
    return f"partner:{partner_id}:{kind}"


def customer(customer_id: int, kind: str) -> str:
    return f"customer:{customer_id}:{kind}"


def every(kind: str) -> str:
    """What an ADMIN stream of ``kind`` listens to: every event of that kind."""
    return f"{kind}:*"
