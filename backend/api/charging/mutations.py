"""configureWhatsAppWebhook, importRateCard, recordConversation, authorizeBroadcast,
releaseHold, replayWebhookEvent."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry
from strawberry.types import Info

from backend.api.charging.payloads import (
    ConversationPayload,
    HoldPayload,
    RateCardPayload,
    WebhookEventPayload,
)
from backend.api.charging.types import (
    Conversation,
    ConversationCategory,
    Hold,
    PricingModel,
    Rate,
    WebhookEvent,
)
from backend.api.context import principal_of
from backend.api.errors import payload_or_user_errors
from backend.api.inputs import id_of
from backend.api.tenants.payloads import PartnerPayload
from backend.api.tenants.types import Partner
from backend.api.wallets.types import LedgerEntry
from backend.domain import access, charging, holds, rates, tenants, validation
from backend.domain.channels import normalise_phone_number
from backend.domain.errors import DuplicateRecipient, InvalidArgument, InvalidPhoneNumber, NotFound
from backend.domain.models import Role, Wallet
from backend.domain.models import WebhookEvent as WebhookEventModel
from backend.webhooks import processing


async def _currency_of_wallet(wallet_id: int) -> str:
    return (await Wallet.get(id=wallet_id)).currency_code


def _phone_number(text: str, field: str | list[str]) -> str:
    """E.164 from an integrator's input, or INVALID_PHONE_NUMBER on ``field``."""
    try:
        return normalise_phone_number(text)
    except InvalidPhoneNumber as error:
        error.field = field if isinstance(field, list) else [field]
        raise


def _external_id(text: str) -> str:
    key = (text or "").strip()
    if not key or len(key) > 200:
        raise InvalidArgument("externalId is 1 to 200 characters.", field="externalId")
    validation.name(key, field="externalId")
    return key


def _broadcast_recipients(raw: list[str]) -> list[str]:
    """Distinct E.164 numbers; errors name the item (``recipients.3``)."""
    if not raw:
        raise InvalidArgument("A broadcast needs at least one recipient.", field="recipients")
    if len(raw) > holds.MAX_RECIPIENTS:
        raise InvalidArgument(f"At most {holds.MAX_RECIPIENTS} recipients.", field="recipients")
    numbers: list[str] = []
    seen: set[str] = set()
    for n, text in enumerate(raw):
        number = _phone_number(text, ["recipients", str(n)])
        if number in seen:
            raise DuplicateRecipient(f"{number} is listed twice.", field=["recipients", str(n)])
        seen.add(number)
        numbers.append(number)
    return numbers


def _ttl(ttl_seconds: int | None) -> timedelta:
    ttl = holds.DEFAULT_TTL if ttl_seconds is None else timedelta(seconds=ttl_seconds)
    if not holds.MIN_TTL <= ttl <= holds.MAX_TTL:
        raise InvalidArgument("ttlSeconds is from 60 to 604800.", field="ttlSeconds")
    return ttl


@strawberry.type
class ChargingMutations:
    @strawberry.mutation(
        description="The Meta app secret and verify token of the partner's webhook."
    )
    async def configure_whats_app_webhook(
        self, info: Info, partner_id: strawberry.ID, app_secret: str, verify_token: str
    ) -> PartnerPayload:
        async def build() -> PartnerPayload:
            access.require_role(principal_of(info), Role.ADMIN, Role.PARTNER)
            partner = await tenants.configure_whatsapp_webhook(
                principal_of(info),
                partner_id=id_of(partner_id, "partnerId"),
                app_secret=app_secret,
                verify_token=verify_token,
            )
            return PartnerPayload(partner=Partner.from_instance(partner))

        return await payload_or_user_errors(PartnerPayload, build)

    @strawberry.mutation(description="ADMIN: a new rate card version (CSV market,category,price).")
    async def import_rate_card(
        self, info: Info, csv: str, currency_code: str, effective_from: datetime
    ) -> RateCardPayload:
        async def build() -> RateCardPayload:
            card, rows = await rates.import_rate_card(
                principal_of(info),
                csv_text=csv,
                currency_code=currency_code,
                effective_from=effective_from,
            )
            return RateCardPayload(rates=[Rate.from_instance(r, card) for r in rows])

        return await payload_or_user_errors(RateCardPayload, build)

    @strawberry.mutation(
        description="Charge a conversation reported by an integrator; once per key."
    )
    async def record_conversation(
        self,
        info: Info,
        channel_id: strawberry.ID,
        external_id: str,
        category: ConversationCategory,
        recipient: str,
        pricing_model: PricingModel | None = None,
        billable: bool | None = None,
        opened_at: datetime | None = None,
    ) -> ConversationPayload:
        async def build() -> ConversationPayload:
            principal = principal_of(info)
            access.require_role(principal, Role.ADMIN, Role.PARTNER)
            cid = id_of(channel_id, "channelId")
            key = _external_id(external_id)
            number = _phone_number(recipient, "recipient")
            if opened_at is not None and opened_at.tzinfo is None:
                raise InvalidArgument("openedAt needs a UTC offset.", field="openedAt")
            result = await charging.record_conversation(
                principal,
                channel_id=cid,
                external_id=key,
                category=category,
                recipient=number,
                pricing_model=pricing_model or PricingModel.PMP,
                billable=True if billable is None else billable,
                opened_at=opened_at,
            )
            currency = await _currency_of_wallet(result.conversation.wallet_id)
            return ConversationPayload(
                conversation=Conversation.from_instance(result.conversation, currency),
                entry=LedgerEntry.from_instance(result.entry, currency) if result.entry else None,
                duplicate=result.duplicate,
            )

        return await payload_or_user_errors(ConversationPayload, build)

    @strawberry.mutation(
        description="Price a broadcast, check channel, tier and funds, and hold the money."
    )
    async def authorize_broadcast(
        self,
        info: Info,
        channel_id: strawberry.ID,
        category: ConversationCategory,
        recipients: list[str],
        ttl_seconds: int | None = None,
    ) -> HoldPayload:
        async def build() -> HoldPayload:
            principal = principal_of(info)
            cid = id_of(channel_id, "channelId")
            numbers = _broadcast_recipients(recipients)
            ttl = _ttl(ttl_seconds)
            hold = await holds.authorize_broadcast(
                principal, channel_id=cid, category=category, recipients=numbers, ttl=ttl
            )
            currency = await _currency_of_wallet(hold.wallet_id)
            return HoldPayload(hold=Hold.from_instance(hold, currency))

        return await payload_or_user_errors(HoldPayload, build)

    @strawberry.mutation
    async def release_hold(self, info: Info, hold_id: strawberry.ID) -> HoldPayload:
        async def build() -> HoldPayload:
            principal = principal_of(info)
            hold = await holds.release_hold(principal, hold_id=id_of(hold_id, "holdId"))
            currency = await _currency_of_wallet(hold.wallet_id)
            return HoldPayload(hold=Hold.from_instance(hold, currency))

        return await payload_or_user_errors(HoldPayload, build)

    @strawberry.mutation(
        description="ADMIN: process a stored webhook event again (charges are keyed)."
    )
    async def replay_webhook_event(
        self, info: Info, event_id: strawberry.ID
    ) -> WebhookEventPayload:
        async def build() -> WebhookEventPayload:
            access.require_role(principal_of(info), Role.ADMIN)
            eid = id_of(event_id, "eventId")
            if not await WebhookEventModel.exists(id=eid):
                raise NotFound("No such webhook event.", field="eventId")
            return WebhookEventPayload(
                event=WebhookEvent.from_instance(await processing.process(eid))
            )

        return await payload_or_user_errors(WebhookEventPayload, build)
