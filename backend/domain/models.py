"""The Daybook data model.

Invariants (stated here, enforced by the database where it can, and checked by
``daybook verify`` / ``backend.domain.verify`` everywhere else):

1. Money is integer micro-units (1 unit = 1_000_000). No float column exists.
2. The money ledger is append-only. ``LedgerEntry`` rows are inserted by
   ``backend.domain.ledger`` and never updated or deleted; every entry moves a
   non-zero amount (CHECK ``amount_micros <> 0``).
3. ``Wallet.balance_micros == sum(LedgerEntry.amount_micros)`` for the wallet,
   and each entry's ``balance_after_micros`` is the running sum up to it. The
   balance and the entry are written in one transaction by one module.
4. The day ledger is the same for partners: ``Partner.day_balance ==
   sum(DayEntry.days)``, written only by ``backend.domain.days``, and the day
   balance can never be negative (CHECK ``day_balance >= 0``).
5. ``Wallet.held_micros`` (money reserved by active holds) and
   ``Wallet.credit_limit_micros`` are never negative (CHECK). A debit that
   needs funds passes only if ``balance - held + credit_limit`` covers it,
   tested in the same UPDATE that moves the money.
6. An idempotency key is unique per caller (``UNIQUE(scope, key)``): one key
   moves money or days at most once.
7. API keys are stored as SHA-256 hashes; only the public prefix is stored in
   clear. A key's role matches its tenant (CHECK).
8. Days given to a channel are kept as lots (``ChannelLot``: paid or trial,
   days, the interval they cover). For every partner, the paid days in lots
   equal the days its ALLOCATION and TRIAL_FUNDED entries took, and the days
   refunded from lots equal its REFUND entries; so ``balance + days held by
   live channels + days used == days purchased`` can be proven from the rows.
   A lot never refunds more than it holds (CHECK).
9. A phone number is on at most one live (not DELETED) channel, and so is a
   WhatsApp ``phone_number_id`` (partial unique indexes); a phone number gets
   one trial ever (``TrialClaim.phone_number`` unique).
10. Invoices: one per customer and period (``UNIQUE(customer_id, period)``).
    A line's amount is its quantity times its unit price, a total is its
    subtotal plus its tax (CHECKs), and the subtotal is the sum of the lines
    that are due (not prepaid). Issued numbers are gapless per partner:
    ``UNIQUE(partner_id, sequence)`` and ``InvoiceCounter.last_sequence`` equals
    the count of numbered invoices. A DRAFT has no number, an OPEN or PAID
    invoice has one with its issue and due dates, a PAID one its payment date
    (CHECK). An invoice paid from the wallet points at its one INVOICE_PAYMENT
    entry, which moved exactly minus its total.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model


class Role(StrEnum):
    ADMIN = "ADMIN"
    PARTNER = "PARTNER"
    CUSTOMER = "CUSTOMER"


class LedgerEntryKind(StrEnum):
    TOP_UP = "TOP_UP"
    AUTO_RECHARGE = "AUTO_RECHARGE"
    CONVERSATION_CHARGE = "CONVERSATION_CHARGE"
    INTEGRATION_CHARGE = "INTEGRATION_CHARGE"
    HOLD = "HOLD"
    HOLD_RELEASE = "HOLD_RELEASE"
    INVOICE_PAYMENT = "INVOICE_PAYMENT"
    REFUND = "REFUND"
    ADJUSTMENT = "ADJUSTMENT"


class DayEntryKind(StrEnum):
    PURCHASE = "PURCHASE"
    ALLOCATION = "ALLOCATION"
    TRIAL = "TRIAL"
    TRIAL_FUNDED = "TRIAL_FUNDED"
    REFUND = "REFUND"
    ADJUSTMENT = "ADJUSTMENT"


class ChannelStatus(StrEnum):
    PENDING = "PENDING"
    TRIAL = "TRIAL"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"


class MessagingTier(StrEnum):
    TIER_250 = "TIER_250"
    TIER_2K = "TIER_2K"
    TIER_10K = "TIER_10K"
    TIER_100K = "TIER_100K"
    TIER_UNLIMITED = "TIER_UNLIMITED"


class LotKind(StrEnum):
    PAID = "PAID"  # bought with the partner's days (funded trials included): refundable
    TRIAL = "TRIAL"  # free trial days: never refunded


class AlertKind(StrEnum):
    LOW_BALANCE = "LOW_BALANCE"
    LOW_DAYS = "LOW_DAYS"
    CHANNEL_EXPIRING = "CHANNEL_EXPIRING"
    CHANNEL_EXPIRED = "CHANNEL_EXPIRED"
    AUTO_RECHARGE_FAILED = "AUTO_RECHARGE_FAILED"
    INVOICE_OVERDUE = "INVOICE_OVERDUE"
    PAYMENT_FAILED = "PAYMENT_FAILED"


class ConversationCategory(StrEnum):
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"
    AUTHENTICATION_INTERNATIONAL = "AUTHENTICATION_INTERNATIONAL"
    SERVICE = "SERVICE"
    REFERRAL_CONVERSION = "REFERRAL_CONVERSION"
    MARKETING_LITE = "MARKETING_LITE"


class ConversationOrigin(StrEnum):
    BUSINESS_INITIATED = "BUSINESS_INITIATED"
    USER_INITIATED = "USER_INITIATED"


class PricingModel(StrEnum):
    CBP = "CBP"
    PMP = "PMP"


class HoldStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CAPTURED = "CAPTURED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


class HoldRecipientState(StrEnum):
    PENDING = "PENDING"
    CAPTURED = "CAPTURED"
    RELEASED = "RELEASED"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"  # generated, still the partner's to review: no number yet
    OPEN = "OPEN"  # finalised: numbered, issued, due in 15 days
    PAID = "PAID"
    VOID = "VOID"


class WebhookEventStatus(StrEnum):
    PENDING = "PENDING"  # stored, not yet processed (or waiting for a retry)
    PROCESSED = "PROCESSED"
    DEAD = "DEAD"  # kept for an admin: unprocessable after its retries


class Partner(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=200)
    currency_code = fields.CharField(max_length=3)
    day_price_micros = fields.BigIntField()
    # Partner markup on conversation rates, in millionths of a percent (12.5% = 12_500_000).
    markup_percent_micros = fields.BigIntField(default=0)
    trial_eligible = fields.BooleanField(default=False)
    day_balance = fields.BigIntField(default=0)
    low_days_threshold = fields.BigIntField(null=True)
    # WhatsApp Cloud API webhook: the Meta app secret signs every POST (HMAC-SHA256),
    # the verify token answers Meta's subscription handshake. The secret is stored
    # encrypted (backend/secret_box.py: a Fernet token, longer than the secret).
    whatsapp_app_secret = fields.CharField(max_length=1500, null=True)
    whatsapp_verify_token = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "partners"
        constraints = (
            CheckConstraint(check="day_balance >= 0", name="partners_day_balance_non_negative"),
            CheckConstraint(check="day_price_micros >= 0", name="partners_day_price_non_negative"),
            CheckConstraint(
                check="markup_percent_micros >= 0", name="partners_markup_non_negative"
            ),
        )


class Plan(Model):
    id = fields.BigIntField(primary_key=True)
    # NULL: a platform plan any partner may use; otherwise the partner's own plan.
    partner: fields.ForeignKeyNullableRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="plans", null=True, on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=200)
    monthly_fee_micros = fields.BigIntField()
    currency_code = fields.CharField(max_length=3)
    tax_rate_percent_micros = fields.BigIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "plans"
        constraints = (
            CheckConstraint(check="monthly_fee_micros >= 0", name="plans_fee_non_negative"),
            CheckConstraint(
                check="tax_rate_percent_micros >= 0 AND tax_rate_percent_micros <= 100000000",
                name="plans_tax_rate_range",
            ),
        )


class Customer(Model):
    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="customers", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=200)
    # The plan chosen at creation. The plan in force at any moment, changes
    # included, is in ``PlanAssignment``: invoices and the API read that.
    plan: fields.ForeignKeyNullableRelation[Plan] = fields.ForeignKeyField(
        "models.Plan", related_name="customers", null=True, on_delete=fields.RESTRICT
    )
    # Set while an invoice is overdue (broadcasts refused), cleared when settled.
    suspended = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "customers"


class Wallet(Model):
    id = fields.BigIntField(primary_key=True)
    customer: fields.OneToOneRelation[Customer] = fields.OneToOneField(
        "models.Customer", related_name="wallet", on_delete=fields.RESTRICT
    )
    currency_code = fields.CharField(max_length=3)
    balance_micros = fields.BigIntField(default=0)
    held_micros = fields.BigIntField(default=0)
    credit_limit_micros = fields.BigIntField(default=0)
    low_balance_threshold_micros = fields.BigIntField(null=True)
    # The enabled auto-recharge rule's threshold, kept here so the movement's own
    # UPDATE returns it: no extra query on the hot path to see a crossing.
    recharge_threshold_micros = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "wallets"
        constraints = (
            CheckConstraint(check="held_micros >= 0", name="wallets_held_non_negative"),
            CheckConstraint(
                check="credit_limit_micros >= 0", name="wallets_credit_limit_non_negative"
            ),
        )

    @property
    def available_micros(self) -> int:
        return self.balance_micros - self.held_micros + self.credit_limit_micros


class LedgerEntry(Model):
    id = fields.BigIntField(primary_key=True)
    wallet: fields.ForeignKeyRelation[Wallet] = fields.ForeignKeyField(
        "models.Wallet", related_name="entries", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(LedgerEntryKind, max_length=32)
    amount_micros = fields.BigIntField()
    balance_after_micros = fields.BigIntField()
    comment = fields.CharField(max_length=500, null=True)
    reference = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "ledger_entries"
        # (kind, created_at): a month's integration charges for the invoices.
        indexes = (("wallet_id", "id"), ("wallet_id", "kind", "id"), ("kind", "created_at"))
        constraints = (
            CheckConstraint(check="amount_micros <> 0", name="ledger_entries_amount_non_zero"),
        )


class DayEntry(Model):
    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="day_entries", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(DayEntryKind, max_length=32)
    days = fields.BigIntField()
    day_balance_after = fields.BigIntField()
    channel: fields.ForeignKeyNullableRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="day_entries", null=True, on_delete=fields.RESTRICT
    )
    comment = fields.CharField(max_length=500)
    created_at = fields.DatetimeField()

    class Meta:
        table = "day_entries"
        indexes = (("partner_id", "id"), ("partner_id", "kind", "id"))
        constraints = (
            CheckConstraint(
                check="day_balance_after >= 0", name="day_entries_balance_non_negative"
            ),
        )


class ApiKey(Model):
    id = fields.BigIntField(primary_key=True)
    # Public, unique part of the key ("dbk_" + 12 characters); shown in lists, used to revoke.
    prefix = fields.CharField(max_length=32, unique=True)
    key_hash = fields.CharField(max_length=64)
    role = fields.CharEnumField(Role, max_length=16)
    partner: fields.ForeignKeyNullableRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="api_keys", null=True, on_delete=fields.RESTRICT
    )
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="api_keys", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_keys"
        constraints = (
            CheckConstraint(
                check=(
                    "(role = 'ADMIN' AND partner_id IS NULL AND customer_id IS NULL)"
                    " OR (role = 'PARTNER' AND partner_id IS NOT NULL AND customer_id IS NULL)"
                    " OR (role = 'CUSTOMER' AND partner_id IS NOT NULL AND customer_id IS NOT NULL)"
                ),
                name="api_keys_role_matches_tenant",
            ),
        )


class IdempotencyRecord(Model):
    """What a mutation sent with an idempotency key did, so a retry can be answered alike."""

    id = fields.BigIntField(primary_key=True)
    # Whose key this is: the API key's id (or "system" for internal callers).
    scope = fields.CharField(max_length=64)
    key = fields.CharField(max_length=200)
    operation = fields.CharField(max_length=64)
    request_hash = fields.CharField(max_length=64)
    # JSON text of what the first call returned (ids of the rows it made).
    result = fields.TextField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "idempotency_records"
        unique_together = (("scope", "key"),)


class Channel(Model):
    """A customer's WhatsApp number, kept active by the partner's days."""

    id = fields.BigIntField(primary_key=True)
    # The partner is the customer's; stored too so a partner's channels are one index away.
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="channels", on_delete=fields.RESTRICT
    )
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="channels", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=200)
    phone_number = fields.CharField(max_length=20)  # E.164
    phone_number_id = fields.CharField(max_length=64, null=True)
    status = fields.CharEnumField(ChannelStatus, max_length=16)
    active_until = fields.DatetimeField(null=True)
    messaging_tier = fields.CharEnumField(
        MessagingTier, max_length=16, default=MessagingTier.TIER_250
    )
    created_at = fields.DatetimeField()
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "channels"
        indexes = (("partner_id", "status", "id"), ("customer_id", "status", "id"))


class ChannelLot(Model):
    """Days given to a channel at once, and the stretch of time they cover."""

    id = fields.BigIntField(primary_key=True)
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="lots", on_delete=fields.RESTRICT
    )
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="channel_lots", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(LotKind, max_length=8)
    days = fields.BigIntField()
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    refunded_days = fields.BigIntField(default=0)
    day_entry: fields.ForeignKeyRelation[DayEntry] = fields.ForeignKeyField(
        "models.DayEntry", related_name="lots", on_delete=fields.RESTRICT
    )
    comment = fields.CharField(max_length=500)
    created_at = fields.DatetimeField()

    class Meta:
        table = "channel_lots"
        indexes = (("channel_id", "id"),)
        constraints = (
            CheckConstraint(check="days > 0", name="channel_lots_days_positive"),
            CheckConstraint(
                check="refunded_days >= 0 AND refunded_days <= days",
                name="channel_lots_refund_within_days",
            ),
        )


class TrialClaim(Model):
    """A phone number that has had its one free or funded trial."""

    id = fields.BigIntField(primary_key=True)
    phone_number = fields.CharField(max_length=20, unique=True)
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="trial_claims", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "trial_claims"


class Alert(Model):
    """Something a partner or customer must know about: stored, then pushed."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(AlertKind, max_length=32)
    message = fields.CharField(max_length=500)
    partner: fields.ForeignKeyNullableRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="alerts", null=True, on_delete=fields.RESTRICT
    )
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="alerts", null=True, on_delete=fields.RESTRICT
    )
    wallet: fields.ForeignKeyNullableRelation[Wallet] = fields.ForeignKeyField(
        "models.Wallet", related_name="alerts", null=True, on_delete=fields.RESTRICT
    )
    channel: fields.ForeignKeyNullableRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="alerts", null=True, on_delete=fields.RESTRICT
    )
    # Makes an alert fire once: unique while set. "Once per crossing" alerts
    # clear it when resolved, so the next crossing may fire again.
    dedupe_key = fields.CharField(max_length=200, null=True, unique=True)
    created_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "alerts"
        indexes = (("partner_id", "id"), ("customer_id", "id"))


class JobLease(Model):
    """Who runs a periodic job right now: one runner at a time across workers."""

    name = fields.CharField(max_length=64, primary_key=True)
    holder = fields.CharField(max_length=128)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "job_leases"


class RateCard(Model):
    """One imported version of the rate card. The one in force at t has the latest effective_from <= t."""

    id = fields.BigIntField(primary_key=True)
    currency_code = fields.CharField(max_length=3)
    effective_from = fields.DatetimeField()
    source = fields.CharField(max_length=200)
    created_at = fields.DatetimeField()

    class Meta:
        table = "rate_cards"
        indexes = (("currency_code", "effective_from"),)


class Rate(Model):
    id = fields.BigIntField(primary_key=True)
    card: fields.ForeignKeyRelation[RateCard] = fields.ForeignKeyField(
        "models.RateCard", related_name="rates", on_delete=fields.RESTRICT
    )
    market = fields.CharField(max_length=64)  # ISO 3166-1 alpha-2, a Meta region, or "*"
    category = fields.CharEnumField(ConversationCategory, max_length=32)
    price_micros = fields.BigIntField()

    class Meta:
        table = "rates"
        unique_together = (("card_id", "market", "category"),)
        constraints = (CheckConstraint(check="price_micros >= 0", name="rates_price_non_negative"),)


class Hold(Model):
    """Money reserved for a broadcast: counted against ``available``, captured by its charges."""

    id = fields.BigIntField(primary_key=True)
    wallet: fields.ForeignKeyRelation[Wallet] = fields.ForeignKeyField(
        "models.Wallet", related_name="holds", on_delete=fields.RESTRICT
    )
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="holds", on_delete=fields.RESTRICT
    )
    category = fields.CharEnumField(ConversationCategory, max_length=32)
    amount_micros = fields.BigIntField()
    remaining_micros = fields.BigIntField()
    status = fields.CharEnumField(HoldStatus, max_length=16)
    recipients = fields.IntField()
    expires_at = fields.DatetimeField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "holds"
        indexes = (("wallet_id", "status", "id"), ("status", "expires_at"))
        constraints = (
            CheckConstraint(
                check="remaining_micros >= 0 AND remaining_micros <= amount_micros",
                name="holds_remaining_within_amount",
            ),
        )


class HoldRecipient(Model):
    """One recipient's share of a hold."""

    id = fields.BigIntField(primary_key=True)
    hold: fields.ForeignKeyRelation[Hold] = fields.ForeignKeyField(
        "models.Hold", related_name="shares", on_delete=fields.RESTRICT
    )
    channel_id = fields.BigIntField()
    recipient = fields.CharField(max_length=20)  # E.164
    price_micros = fields.BigIntField()
    state = fields.CharEnumField(HoldRecipientState, max_length=16)
    # What settled the share ("charge:<conversation key>" or "failed:<message id>"):
    # unique per channel, so Meta's retries and replays settle nothing twice.
    settled_by = fields.CharField(max_length=220, null=True)

    class Meta:
        table = "hold_recipients"
        unique_together = (("hold_id", "recipient"),)
        indexes = (("channel_id", "recipient", "state"),)


class Conversation(Model):
    """A charged (or free) conversation or message: one per channel and external id, ever."""

    id = fields.BigIntField(primary_key=True)
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="conversations", on_delete=fields.RESTRICT
    )
    customer_id = fields.BigIntField()
    partner_id = fields.BigIntField()
    wallet_id = fields.BigIntField()
    external_id = fields.CharField(max_length=200)
    category = fields.CharEnumField(ConversationCategory, max_length=32)
    origin = fields.CharEnumField(ConversationOrigin, max_length=32)
    pricing_model = fields.CharEnumField(PricingModel, max_length=8)
    recipient = fields.CharField(max_length=20)
    market = fields.CharField(max_length=64)
    billable = fields.BooleanField()
    price_micros = fields.BigIntField()
    rate: fields.ForeignKeyNullableRelation[Rate] = fields.ForeignKeyField(
        "models.Rate", related_name="conversations", null=True, on_delete=fields.RESTRICT
    )
    ledger_entry: fields.ForeignKeyNullableRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="conversations", null=True, on_delete=fields.RESTRICT
    )
    opened_at = fields.DatetimeField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "conversations"
        unique_together = (("channel_id", "external_id"),)
        indexes = (
            ("customer_id", "id"),
            ("channel_id", "recipient", "opened_at"),
            # A month's usage per partner, aggregated for its invoices.
            ("partner_id", "created_at"),
        )
        constraints = (
            CheckConstraint(check="price_micros >= 0", name="conversations_price_non_negative"),
        )


class WebhookEvent(Model):
    """A webhook body as Meta sent it, stored before it is answered (rule 5)."""

    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="webhook_events", on_delete=fields.RESTRICT
    )
    body = fields.TextField()
    status = fields.CharEnumField(WebhookEventStatus, max_length=16)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    received_at = fields.DatetimeField()
    next_attempt_at = fields.DatetimeField(null=True)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_events"
        indexes = (("status", "next_attempt_at"), ("partner_id", "id"))


class AutoRechargeRule(Model):
    """A wallet that tops itself up from the customer's payment method when it runs low."""

    id = fields.BigIntField(primary_key=True)
    wallet: fields.OneToOneRelation[Wallet] = fields.OneToOneField(
        "models.Wallet", related_name="auto_recharge", on_delete=fields.RESTRICT
    )
    enabled = fields.BooleanField()
    threshold_micros = fields.BigIntField()
    amount_micros = fields.BigIntField()
    daily_cap_micros = fields.BigIntField()
    consecutive_failures = fields.IntField(default=0)
    last_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "auto_recharge_rules"
        constraints = (
            CheckConstraint(
                check="amount_micros > 0 AND threshold_micros >= 0 AND daily_cap_micros >= amount_micros",
                name="auto_recharge_rules_sane",
            ),
        )


class RechargeAttemptStatus(StrEnum):
    PENDING = "PENDING"  # claimed: the gateway is being (or may have been) asked
    SUCCEEDED = "SUCCEEDED"  # charged and posted as one AUTO_RECHARGE entry
    FAILED = "FAILED"  # declined: nothing taken, nothing posted


class RechargeAttempt(Model):
    """One ask of the payment gateway, written before the gateway is called.

    If the worker dies, or the connection drops, between the gateway taking
    the money and the entry being posted, the row stays PENDING and the jobs
    loop asks again with the same idempotency key: the gateway answers with the
    first charge instead of charging twice, and the entry is posted then.
    """

    id = fields.BigIntField(primary_key=True)
    wallet: fields.ForeignKeyRelation[Wallet] = fields.ForeignKeyField(
        "models.Wallet", related_name="recharge_attempts", on_delete=fields.RESTRICT
    )
    amount_micros = fields.BigIntField()
    currency_code = fields.CharField(max_length=3)
    # Sent to the gateway with every try of this attempt.
    idempotency_key = fields.CharField(max_length=64, unique=True)
    status = fields.CharEnumField(RechargeAttemptStatus, max_length=16)
    tries = fields.IntField(default=0)
    gateway_reference = fields.CharField(max_length=200, null=True)
    error = fields.CharField(max_length=500, null=True)
    ledger_entry: fields.ForeignKeyNullableRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="recharge_attempts", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "recharge_attempts"
        indexes = (("wallet_id", "status"), ("status", "updated_at"))


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # gave up after retrying for 24 hours


class AlertWebhook(Model):
    """A partner's URL that receives every alert as a signed JSON POST."""

    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="alert_webhooks", on_delete=fields.RESTRICT
    )
    url = fields.CharField(max_length=2000)
    # Signs each POST (HMAC-SHA256, header X-Daybook-Signature); shown once at registration,
    # stored encrypted (backend/secret_box.py).
    secret = fields.CharField(max_length=500)
    created_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "alert_webhooks"


class AlertDelivery(Model):
    """One alert sent (or being sent) to one webhook: the attempts are visible to the partner."""

    id = fields.BigIntField(primary_key=True)
    webhook: fields.ForeignKeyRelation[AlertWebhook] = fields.ForeignKeyField(
        "models.AlertWebhook", related_name="deliveries", on_delete=fields.RESTRICT
    )
    alert: fields.ForeignKeyRelation[Alert] = fields.ForeignKeyField(
        "models.Alert", related_name="deliveries", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(DeliveryStatus, max_length=16)
    attempts = fields.IntField(default=0)
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    next_attempt_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "alert_deliveries"
        indexes = (("status", "next_attempt_at"), ("webhook_id", "id"))


class PlanAssignment(Model):
    """The plan a customer is on from ``effective_from`` on (NULL plan: none).

    A customer's first row starts at its creation; a change made with
    ``setCustomerPlan`` starts at the next period, so a month already begun is
    billed on the plan it began with. Invoices read the row in force for their
    period, however late they are generated.
    """

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="plan_assignments", on_delete=fields.RESTRICT
    )
    plan: fields.ForeignKeyNullableRelation[Plan] = fields.ForeignKeyField(
        "models.Plan", related_name="assignments", null=True, on_delete=fields.RESTRICT
    )
    effective_from = fields.DatetimeField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "plan_assignments"


class Invoice(Model):
    """A customer's bill for one month: the plan fee and tax due, usage as a statement."""

    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="invoices", on_delete=fields.RESTRICT
    )
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="invoices", on_delete=fields.RESTRICT
    )
    period = fields.CharField(max_length=7)  # "YYYY-MM"
    period_start = fields.DatetimeField()
    period_end = fields.DatetimeField()  # exclusive: the first instant of the next month
    status = fields.CharEnumField(InvoiceStatus, max_length=8)
    # The partner's gapless sequence, given at finalisation; the number shows it.
    sequence = fields.IntField(null=True)
    number = fields.CharField(max_length=40, null=True)
    plan: fields.ForeignKeyNullableRelation[Plan] = fields.ForeignKeyField(
        "models.Plan", related_name="invoices", null=True, on_delete=fields.RESTRICT
    )
    currency_code = fields.CharField(max_length=3)
    tax_rate_percent_micros = fields.BigIntField(default=0)
    subtotal_micros = fields.BigIntField()
    tax_micros = fields.BigIntField()
    total_micros = fields.BigIntField()
    issued_at = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(null=True)
    paid_at = fields.DatetimeField(null=True)
    voided_at = fields.DatetimeField(null=True)
    # Set when the overdue job suspended the customer for this invoice.
    overdue_at = fields.DatetimeField(null=True)
    # Why it was marked paid or voided (a person's comment).
    status_comment = fields.CharField(max_length=500, null=True)
    payment_entry: fields.ForeignKeyNullableRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="invoices", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "invoices"
        indexes = (("partner_id", "period"), ("customer_id", "id"), ("status", "due_at"))
        constraints = (
            CheckConstraint(
                check="subtotal_micros >= 0 AND tax_micros >= 0"
                " AND total_micros = subtotal_micros + tax_micros",
                name="invoices_totals",
            ),
            CheckConstraint(
                check="(status = 'DRAFT' AND sequence IS NULL AND issued_at IS NULL)"
                " OR (status IN ('OPEN', 'PAID') AND sequence IS NOT NULL"
                " AND issued_at IS NOT NULL AND due_at IS NOT NULL)"
                " OR status = 'VOID'",
                name="invoices_numbered_when_issued",
            ),
            CheckConstraint(
                check="(status = 'PAID') = (paid_at IS NOT NULL)", name="invoices_paid_at"
            ),
        )


class InvoiceLine(Model):
    id = fields.BigIntField(primary_key=True)
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="lines", on_delete=fields.RESTRICT
    )
    position = fields.IntField()
    description = fields.CharField(max_length=300)
    quantity = fields.BigIntField()
    unit_price_micros = fields.BigIntField()
    amount_micros = fields.BigIntField()
    # Already settled from the wallet when it happened: a statement, not in the total.
    prepaid = fields.BooleanField()

    class Meta:
        table = "invoice_lines"
        indexes = (("invoice_id", "position"),)
        constraints = (
            CheckConstraint(
                check="quantity > 0 AND unit_price_micros >= 0"
                " AND amount_micros = quantity * unit_price_micros",
                name="invoice_lines_amount",
            ),
        )


class InvoiceCounter(Model):
    """The last invoice sequence a partner issued, bumped in the finalising transaction."""

    partner: fields.OneToOneRelation[Partner] = fields.OneToOneField(
        "models.Partner",
        related_name="invoice_counter",
        primary_key=True,
        on_delete=fields.RESTRICT,
    )
    last_sequence = fields.IntField()

    class Meta:
        table = "invoice_counters"


class InvoiceRun(Model):
    """A period the jobs loop has generated invoices for, so it does so once."""

    period = fields.CharField(max_length=7, primary_key=True)
    completed_at = fields.DatetimeField()

    class Meta:
        table = "invoice_runs"


# ---- Money in: payment accounts, saved cards, payments, provider events -------


class PaymentStatus(StrEnum):
    PENDING = "PENDING"  # made; the payer (or the provider's answer) is awaited
    REQUIRES_ACTION = "REQUIRES_ACTION"  # the payer must authenticate (3-D Secure)
    SUCCEEDED = "SUCCEEDED"  # paid, and posted once (``entry`` or ``day_entry``)
    FAILED = "FAILED"  # declined or unreachable: nothing taken, nothing posted
    CANCELED = "CANCELED"


class PaymentPurpose(StrEnum):
    TOP_UP = "TOP_UP"
    AUTO_RECHARGE = "AUTO_RECHARGE"
    INVOICE = "INVOICE"
    DAY_PURCHASE = "DAY_PURCHASE"


class ProviderEventStatus(StrEnum):
    PENDING = "PENDING"  # stored, being applied
    PROCESSED = "PROCESSED"
    IGNORED = "IGNORED"  # about an object that is not this account's, or a kind we do not use
    DEAD = "DEAD"  # could not be applied: kept for an admin


class PaymentAccount(Model):
    """A Stripe account: a partner's own (it collects from its customers) or the platform's.

    The secret key and the webhook secret are sealed (``backend.secret_box``)
    and never returned.
    """

    id = fields.BigIntField(primary_key=True)
    # "platform", or "partner:<id>": one account per owner (NULL partner is the platform).
    owner = fields.CharField(max_length=40, unique=True)
    partner: fields.ForeignKeyNullableRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="payment_accounts", null=True, on_delete=fields.RESTRICT
    )
    provider = fields.CharField(max_length=20)
    publishable_key = fields.CharField(max_length=300)
    secret_key = fields.CharField(max_length=1500)
    webhook_secret = fields.CharField(max_length=1500)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "payment_accounts"


class PaymentCustomer(Model):
    """The provider's customer object for one of our customers, at one account."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[PaymentAccount] = fields.ForeignKeyField(
        "models.PaymentAccount", related_name="customers", on_delete=fields.RESTRICT
    )
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="payment_customers", on_delete=fields.RESTRICT
    )
    provider_customer_id = fields.CharField(max_length=100)
    created_at = fields.DatetimeField()

    class Meta:
        table = "payment_customers"
        unique_together = (("account_id", "customer_id"),)


class PaymentMethod(Model):
    """A saved card: only the provider's id, brand, last4 and expiry are ever kept."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[PaymentAccount] = fields.ForeignKeyField(
        "models.PaymentAccount", related_name="payment_methods", on_delete=fields.RESTRICT
    )
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="payment_methods", on_delete=fields.RESTRICT
    )
    provider_id = fields.CharField(max_length=100)
    brand = fields.CharField(max_length=40)
    last4 = fields.CharField(max_length=4)
    exp_month = fields.IntField()
    exp_year = fields.IntField()
    is_default = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payment_methods"
        unique_together = (("account_id", "provider_id"),)
        indexes = (("customer_id", "removed_at"),)


class Payment(Model):
    """Money asked of a provider: it posts a movement only once SUCCEEDED, once per intent."""

    id = fields.BigIntField(primary_key=True)
    purpose = fields.CharEnumField(PaymentPurpose, max_length=16)
    status = fields.CharEnumField(PaymentStatus, max_length=16)
    amount_micros = fields.BigIntField()
    currency_code = fields.CharField(max_length=3)
    account: fields.ForeignKeyRelation[PaymentAccount] = fields.ForeignKeyField(
        "models.PaymentAccount", related_name="payments", on_delete=fields.RESTRICT
    )
    # Whose payment: the partner always (for a wallet, the customer's partner).
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="payments", on_delete=fields.RESTRICT
    )
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="payments", null=True, on_delete=fields.RESTRICT
    )
    wallet: fields.ForeignKeyNullableRelation[Wallet] = fields.ForeignKeyField(
        "models.Wallet", related_name="payments", null=True, on_delete=fields.RESTRICT
    )
    payment_method: fields.ForeignKeyNullableRelation[PaymentMethod] = fields.ForeignKeyField(
        "models.PaymentMethod", related_name="payments", null=True, on_delete=fields.RESTRICT
    )
    # DAY_PURCHASE: the days bought and the price per day they were bought at.
    days = fields.BigIntField(null=True)
    day_price_micros = fields.BigIntField(null=True)
    # The provider's PaymentIntent id: one payment per intent, so one credit per intent.
    provider_reference = fields.CharField(max_length=100, null=True, unique=True)
    # Stripe.js needs it in the payer's browser; shown only to the payer.
    client_secret = fields.CharField(max_length=300, null=True)
    # Whose idempotency key made it (the API key's scope), and the key: one payment per key.
    idempotency_scope = fields.CharField(max_length=64)
    idempotency_key = fields.CharField(max_length=200)
    failure_code = fields.CharField(max_length=100, null=True)
    failure_message = fields.CharField(max_length=500, null=True)
    # Taken back by the provider's refunds and disputes, each debited once (the cumulative
    # amounts the provider reports, so a repeated event debits nothing more).
    refunded_micros = fields.BigIntField(default=0)
    disputed_micros = fields.BigIntField(default=0)
    entry: fields.ForeignKeyNullableRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="payments", null=True, on_delete=fields.RESTRICT
    )
    day_entry: fields.ForeignKeyNullableRelation[DayEntry] = fields.ForeignKeyField(
        "models.DayEntry", related_name="payments", null=True, on_delete=fields.RESTRICT
    )
    # AUTO_RECHARGE: the durable attempt this payment answers.
    recharge_attempt: fields.ForeignKeyNullableRelation[RechargeAttempt] = fields.ForeignKeyField(
        "models.RechargeAttempt", related_name="payments", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "payments"
        unique_together = (("idempotency_scope", "idempotency_key"),)
        indexes = (("wallet_id", "id"), ("partner_id", "purpose", "id"))
        constraints = (
            CheckConstraint(check="amount_micros > 0", name="payments_amount_positive"),
            CheckConstraint(
                check="(status = 'SUCCEEDED') OR (entry_id IS NULL AND day_entry_id IS NULL)",
                name="payments_posted_only_when_succeeded",
            ),
        )


class ProviderEvent(Model):
    """An event the provider POSTed, stored before it is answered (rule 5)."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[PaymentAccount] = fields.ForeignKeyField(
        "models.PaymentAccount", related_name="events", on_delete=fields.RESTRICT
    )
    provider_event_id = fields.CharField(max_length=100)
    type = fields.CharField(max_length=100)
    body = fields.TextField()
    status = fields.CharEnumField(ProviderEventStatus, max_length=16)
    attempts = fields.IntField(default=0)
    error = fields.CharField(max_length=1000, null=True)
    payment: fields.ForeignKeyNullableRelation[Payment] = fields.ForeignKeyField(
        "models.Payment", related_name="events", null=True, on_delete=fields.RESTRICT
    )
    received_at = fields.DatetimeField()
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "provider_events"
        unique_together = (("account_id", "provider_event_id"),)
        indexes = (("status", "id"),)


class PartnerTermsChange(Model):
    """A change of a partner's day price or trial eligibility, kept with its comment."""

    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="terms_changes", on_delete=fields.RESTRICT
    )
    day_price_micros = fields.BigIntField()
    trial_eligible = fields.BooleanField()
    comment = fields.CharField(max_length=500)
    # Who: the API key's prefix (or "system").
    changed_by = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    class Meta:
        table = "partner_terms_changes"
        indexes = (("partner_id", "id"),)
