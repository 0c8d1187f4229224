"""Worlds built through the public API, as an integrator would build them."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import GraphQLClient

CREATE_PARTNER = """
mutation($name: String!, $currency: String!, $price: Decimal!, $trial: Boolean) {
  createPartner(name: $name, currencyCode: $currency, dayPrice: $price, trialEligible: $trial) {
    partner { id name currencyCode dayBalance }
    apiKey
    userErrors { field code message }
  }
}"""

CREATE_CUSTOMER = """
mutation($partnerId: ID!, $name: String!, $planId: ID) {
  createCustomer(partnerId: $partnerId, name: $name, planId: $planId) {
    customer { id name wallet { id balance { amount currencyCode } } }
    apiKey
    userErrors { field code message }
  }
}"""

TOP_UP = """
mutation($walletId: ID!, $amount: Decimal!, $comment: String, $key: String) {
  topUpWallet(walletId: $walletId, amount: $amount, comment: $comment, idempotencyKey: $key) {
    wallet { id balance { amount currencyCode } available { amount } }
    entry { id kind amount { amount } balanceAfter { amount } comment }
    replayed
    userErrors { field code message }
  }
}"""

ADJUST = """
mutation($walletId: ID!, $amount: Decimal!, $comment: String!, $key: String) {
  adjustWallet(walletId: $walletId, amount: $amount, comment: $comment, idempotencyKey: $key) {
    wallet { id balance { amount } available { amount } }
    entry { id kind amount { amount } balanceAfter { amount } comment }
    replayed
    userErrors { field code message }
  }
}"""

CHARGE = """
mutation($walletId: ID!, $amount: Decimal!, $comment: String!, $key: String) {
  chargeIntegration(walletId: $walletId, amount: $amount, comment: $comment, idempotencyKey: $key) {
    wallet { id balance { amount } available { amount } }
    entry { id kind amount { amount } balanceAfter { amount } }
    replayed
    userErrors { field code message }
  }
}"""

WALLET = """
query($id: ID!) {
  wallet(id: $id) {
    id balance { amount currencyCode } available { amount } creditLimit { amount }
    lowBalanceThreshold { amount }
    entries(first: 200) { totalCount edges { node { id kind amount { amount } balanceAfter { amount } comment reference } } }
  }
}"""

PURCHASE_DAYS = """
mutation($partnerId: ID!, $days: Int!, $comment: String!, $key: String) {
  purchaseDays(partnerId: $partnerId, days: $days, comment: $comment, idempotencyKey: $key) {
    partner { id dayBalance }
    entry { id kind days dayBalanceAfter comment }
    replayed
    userErrors { field code message }
  }
}"""


@dataclass
class Tenant:
    partner_id: str
    partner: GraphQLClient
    customer_id: str
    wallet_id: str
    customer: GraphQLClient


async def make_partner(
    admin: GraphQLClient, name: str = "Reseller", currency: str = "USD", trial: bool = False
) -> tuple[str, GraphQLClient]:
    payload = await admin.mutate(
        CREATE_PARTNER, {"name": name, "currency": currency, "price": "0.50", "trial": trial}
    )
    return payload["partner"]["id"], admin.as_key(payload["apiKey"])


async def make_customer(
    partner: GraphQLClient, partner_id: str, name: str = "Customer"
) -> tuple[str, str, GraphQLClient]:
    payload = await partner.mutate(CREATE_CUSTOMER, {"partnerId": partner_id, "name": name})
    customer = payload["customer"]
    return customer["id"], customer["wallet"]["id"], partner.as_key(payload["apiKey"])


async def make_tenant(
    admin: GraphQLClient, name: str = "Reseller", currency: str = "USD", funds: str | None = None
) -> Tenant:
    partner_id, partner = await make_partner(admin, name, currency)
    customer_id, wallet_id, customer = await make_customer(partner, partner_id, f"{name} customer")
    if funds:
        await partner.mutate(TOP_UP, {"walletId": wallet_id, "amount": funds})
    return Tenant(partner_id, partner, customer_id, wallet_id, customer)


async def wallet_state(client: GraphQLClient, wallet_id: str) -> dict:
    return (await client.data(WALLET, {"id": wallet_id}))["wallet"]


CREATE_CHANNEL = """
mutation($c: ID!, $name: String!, $phone: String!, $pid: String, $trial: Boolean, $fund: Boolean) {
  createChannel(customerId: $c, name: $name, phoneNumber: $phone, phoneNumberId: $pid,
                trial: $trial, fundTrialFromBalance: $fund) {
    channel { id name phoneNumber phoneNumberId status activeUntil daysRemaining messagingTier }
    dayEntry { id kind days dayBalanceAfter comment }
    userErrors { field code message }
  }
}"""

EXTEND = """
mutation($id: ID!, $days: Int!, $comment: String!, $key: String) {
  extendChannel(channelId: $id, days: $days, comment: $comment, idempotencyKey: $key) {
    channel { id status activeUntil daysRemaining }
    dayEntry { id kind days dayBalanceAfter comment channel { id } }
    replayed
    userErrors { field code message }
  }
}"""

EXTEND_MANY = """
mutation($items: [ExtendChannelItem!]!, $comment: String!, $key: String) {
  extendChannels(items: $items, comment: $comment, idempotencyKey: $key) {
    channels { id status activeUntil daysRemaining }
    dayEntries { id kind days dayBalanceAfter channel { id } }
    replayed
    userErrors { field code message }
  }
}"""

DELETE_CHANNEL = """
mutation($id: ID!, $comment: String!) {
  deleteChannel(channelId: $id, comment: $comment) {
    channel { id status daysRemaining }
    dayEntry { id kind days dayBalanceAfter comment }
    userErrors { field code message }
  }
}"""

CHANNEL = (
    """query($id: ID!) { channel(id: $id) { id status activeUntil daysRemaining messagingTier } }"""
)

DAY_BALANCE = """query($id: ID!) { partner(id: $id) { dayBalance } }"""


def phone(n: int) -> str:
    """A valid, distinct German mobile number for test n."""
    return f"+491511{n:07d}"


async def make_channel(partner: GraphQLClient, customer_id: str, n: int = 0, **options) -> dict:
    payload = await partner.mutate(
        CREATE_CHANNEL, {"c": customer_id, "name": f"Line {n}", "phone": phone(n), **options}
    )
    return payload["channel"]


async def day_balance(client: GraphQLClient, partner_id: str) -> int:
    return (await client.data(DAY_BALANCE, {"id": partner_id}))["partner"]["dayBalance"]
