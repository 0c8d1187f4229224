"""Partners and customers: creating tenants and changing their settings.

A customer is always created with its wallet, in one transaction. Money and
days never move here; see ``wallets`` and ``partners_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backend.domain import access, api_keys, plans, validation
from backend.domain.access import Principal
from backend.domain.api_keys import IssuedKey
from backend.domain.clock import clock
from backend.domain.errors import InvalidArgument
from backend.domain.models import Customer, Partner, PlanAssignment, Role, Wallet
from backend.domain.money import check_micros, check_percent
from backend.domain.unit_of_work import transaction
from backend.secret_box import MAX_SECRET_CHARS, seal

MAX_DAY_PRICE_MICROS = 1_000_000 * 1_000_000
MAX_MARKUP_PERCENT = Decimal(1000)


@dataclass(frozen=True)
class NewPartner:
    partner: Partner
    key: IssuedKey


@dataclass(frozen=True)
class NewCustomer:
    customer: Customer
    wallet: Wallet
    key: IssuedKey


async def create_partner(
    principal: Principal,
    *,
    name: str,
    currency_code: str,
    day_price_micros: int,
    trial_eligible: bool = False,
) -> NewPartner:
    access.require_role(principal, Role.ADMIN)
    clean_name = validation.name(name)
    currency = validation.currency_code(currency_code)
    check_micros(
        day_price_micros, field="day_price", allow_zero=True, max_micros=MAX_DAY_PRICE_MICROS
    )
    async with transaction():
        partner = await Partner.create(
            name=clean_name,
            currency_code=currency,
            day_price_micros=day_price_micros,
            trial_eligible=trial_eligible,
            created_at=clock.now(),
        )
        key = await api_keys.issue(Role.PARTNER, partner_id=partner.id)
    return NewPartner(partner=partner, key=key)


async def create_customer(
    principal: Principal, *, partner_id: int, name: str, plan_id: int | None = None
) -> NewCustomer:
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    partner = await access.get_partner(principal, partner_id)
    clean_name = validation.name(name)
    plan = await plans.plan_for_partner(partner, plan_id) if plan_id is not None else None
    now = clock.now()
    async with transaction():
        customer = await Customer.create(
            partner_id=partner.id, name=clean_name, plan=plan, created_at=now
        )
        # Billed from creation: the first month's fee is pro rata.
        await PlanAssignment.create(
            customer_id=customer.id, plan=plan, effective_from=now, created_at=now
        )
        wallet = await Wallet.create(
            customer_id=customer.id, currency_code=partner.currency_code, created_at=clock.now()
        )
        key = await api_keys.issue(Role.CUSTOMER, partner_id=partner.id, customer_id=customer.id)
    return NewCustomer(customer=customer, wallet=wallet, key=key)


async def set_markup(principal: Principal, *, partner_id: int, percent_micros: int) -> Partner:
    """The partner's markup on conversation rates: its own margin, so it may set it itself."""
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    partner = await access.get_partner(principal, partner_id)
    partner.markup_percent_micros = check_percent(
        percent_micros, field="percent", maximum=MAX_MARKUP_PERCENT
    )
    await partner.save(update_fields=["markup_percent_micros"])
    return partner


async def configure_whatsapp_webhook(
    principal: Principal, *, partner_id: int, app_secret: str, verify_token: str
) -> Partner:
    """The Meta app secret that signs the partner's webhooks (stored encrypted), and the
    handshake token."""
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    partner = await access.get_partner(principal, partner_id)
    secret = validation.free_text(app_secret, field="app_secret")
    token = validation.free_text(verify_token, field="verify_token")
    if not 8 <= len(secret) <= MAX_SECRET_CHARS:
        raise InvalidArgument(
            f"appSecret is 8 to {MAX_SECRET_CHARS} characters.", field="app_secret"
        )
    if not 1 <= len(token) <= 200:
        raise InvalidArgument("verifyToken is 1 to 200 characters.", field="verify_token")
    await Partner.filter(id=partner.id).update(
        whatsapp_app_secret=seal(secret), whatsapp_verify_token=token
    )
    return await Partner.get(id=partner.id)
