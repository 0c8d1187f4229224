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
    plan: fields.ForeignKeyNullableRelation[Plan] = fields.ForeignKeyField(
        "models.Plan", related_name="customers", null=True, on_delete=fields.RESTRICT
    )
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
        indexes = (("wallet_id", "id"), ("wallet_id", "kind", "id"))
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
