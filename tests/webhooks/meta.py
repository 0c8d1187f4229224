"""Meta-shaped WhatsApp Cloud API webhook bodies, signed as Meta signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

APP_SECRET = "test-app-secret-0123"
VERIFY_TOKEN = "verify-me"
PHONE_NUMBER_ID = "106540352242922"

CARD = """market,category,price
DE,MARKETING,0.10
DE,UTILITY,0.05
DE,AUTHENTICATION,0.03
DE,SERVICE,0.02
Rest of Western Europe,MARKETING,0.08
*,MARKETING,0.20
*,UTILITY,0.06
*,AUTHENTICATION,0.04
*,AUTHENTICATION_INTERNATIONAL,0.09
*,SERVICE,0.03
"""

GERMAN = "4915112345678"  # DE: its own market
AUSTRIAN = "436641234567"  # AT: Rest of Western Europe
AMERICAN = "14155552671"  # US: North America, not in the test card -> "*"


def status(
    message_id: str,
    kind: str,
    recipient: str = GERMAN,
    *,
    category: str | None = "marketing",
    model: str = "PMP",
    conversation_id: str | None = None,
    origin: str | None = None,
    price_type: str | None = "regular",
    billable: bool | None = None,
    timestamp: int = 1_772_400_000,  # 2026-03-01
) -> dict[str, Any]:
    """One ``statuses[]`` item; pricing only on delivered/read, as Meta sends it."""
    item: dict[str, Any] = {
        "id": message_id,
        "status": kind,
        "timestamp": str(timestamp),
        "recipient_id": recipient,
    }
    if kind in ("sent", "delivered", "read") and category is not None:
        pricing: dict[str, Any] = {"pricing_model": model, "category": category}
        if price_type is not None:
            pricing["type"] = price_type
        if billable is not None:
            pricing["billable"] = billable
        item["pricing"] = pricing
    if conversation_id:
        item["conversation"] = {"id": conversation_id, "origin": {"type": origin or category}}
    if kind == "failed":
        item["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
    return item


def body(*statuses: dict[str, Any], phone_number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": phone_number_id,
                            },
                            "statuses": list(statuses),
                        },
                    }
                ],
            }
        ],
    }


def capability_update(limit: Any, phone_number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "business_capability_update",
                        "value": {
                            "max_daily_conversation_per_phone": limit,
                            "max_phone_numbers_per_business": 2,
                            "metadata": {"phone_number_id": phone_number_id},
                        },
                    }
                ],
            }
        ],
    }


def sign(raw: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode()
