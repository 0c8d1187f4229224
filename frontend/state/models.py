"""Rows the pages render, built from API objects. Money fields are display strings made from Decimals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frontend.formatting import day, humanize, money, to_decimal, when

TIER_LABELS = {
    "TIER_250": "250",
    "TIER_2K": "2K",
    "TIER_10K": "10K",
    "TIER_100K": "100K",
    "TIER_UNLIMITED": "Unlimited",
}
ALERT_TONE = {
    "LOW_BALANCE": "orange",
    "LOW_DAYS": "orange",
    "CHANNEL_EXPIRING": "amber",
    "CHANNEL_EXPIRED": "red",
    "AUTO_RECHARGE_FAILED": "red",
    "INVOICE_OVERDUE": "red",
}


@dataclass
class ChannelRow:
    id: str = ""
    name: str = ""
    phone: str = ""
    customer_id: str = ""
    customer_name: str = ""
    status: str = ""
    active_until: str = ""  # shown
    active_until_iso: str = ""  # sorted on
    days_remaining: int = 0
    tier: str = ""
    tier_label: str = ""
    created: str = ""

    @classmethod
    def from_api(cls, node: dict[str, Any]) -> ChannelRow:
        customer = node.get("customer") or {}
        return cls(
            id=node["id"],
            name=node["name"],
            phone=node["phoneNumber"],
            customer_id=customer.get("id", ""),
            customer_name=customer.get("name", ""),
            status=node["status"],
            active_until=when(node.get("activeUntil")),
            active_until_iso=node.get("activeUntil") or "",
            days_remaining=node["daysRemaining"],
            tier=node["messagingTier"],
            tier_label=TIER_LABELS.get(node["messagingTier"], node["messagingTier"]),
            created=day(node.get("createdAt")),
        )


@dataclass
class WalletRow:
    """A customer and its wallet, as the wallets page and the overview show them."""

    customer_id: str = ""
    customer_name: str = ""
    suspended: bool = False
    wallet_id: str = ""
    currency: str = ""
    balance: str = ""  # exact decimal string from the API
    balance_text: str = ""
    available_text: str = ""
    held_text: str = ""
    credit_limit: str = ""
    credit_limit_text: str = ""
    threshold: str = ""  # "" when none
    threshold_text: str = ""
    low: bool = False
    overdrawn: bool = False
    auto_enabled: bool = False
    auto_threshold: str = ""
    auto_amount: str = ""
    auto_cap: str = ""
    auto_failures: int = 0
    auto_last_error: str = ""
    auto_pending_since: str = ""  # a recharge the gateway has not answered yet
    auto_text: str = ""

    @classmethod
    def from_api(cls, customer: dict[str, Any], wallet: dict[str, Any]) -> WalletRow:
        currency = wallet["balance"]["currencyCode"]
        balance = to_decimal(wallet["balance"]["amount"])
        threshold = (wallet.get("lowBalanceThreshold") or {}).get("amount") or ""
        rule = wallet.get("autoRecharge") or {}
        auto_text = "Off"
        if rule:
            state = "On" if rule["enabled"] else "Off"
            auto_text = (
                f"{state}: below {money(rule['threshold']['amount'], currency)} add "
                f"{money(rule['amount']['amount'], currency)} "
                f"(at most {money(rule['dailyCap']['amount'], currency)} a day)"
            )
        return cls(
            customer_id=customer["id"],
            customer_name=customer["name"],
            suspended=bool(customer.get("suspended")),
            wallet_id=wallet["id"],
            currency=currency,
            balance=wallet["balance"]["amount"],
            balance_text=money(balance, currency),
            available_text=money(wallet["available"]["amount"], currency),
            held_text=money(wallet["held"]["amount"], currency),
            credit_limit=wallet["creditLimit"]["amount"],
            credit_limit_text=money(wallet["creditLimit"]["amount"], currency),
            threshold=threshold,
            threshold_text=money(threshold, currency) if threshold else "none",
            low=bool(threshold) and balance < to_decimal(threshold),
            overdrawn=balance < 0,
            auto_enabled=bool(rule.get("enabled")),
            auto_threshold=(rule.get("threshold") or {}).get("amount", ""),
            auto_amount=(rule.get("amount") or {}).get("amount", ""),
            auto_cap=(rule.get("dailyCap") or {}).get("amount", ""),
            auto_failures=int(rule.get("consecutiveFailures") or 0),
            auto_last_error=rule.get("lastError") or "",
            auto_pending_since=when(rule.get("pendingSince")) if rule.get("pendingSince") else "",
            auto_text=auto_text,
        )


@dataclass
class AlertRow:
    id: str = ""
    kind: str = ""
    label: str = ""
    message: str = ""
    created: str = ""
    resolved: bool = False
    resolved_at: str = ""
    tone: str = "gray"

    @classmethod
    def from_api(cls, alert: dict[str, Any]) -> AlertRow:
        return cls(
            id=alert["id"],
            kind=alert["kind"],
            label=humanize(alert["kind"]),
            message=alert["message"],
            created=when(alert.get("createdAt")),
            resolved=bool(alert.get("resolvedAt")),
            resolved_at=when(alert.get("resolvedAt")),
            tone=ALERT_TONE.get(alert["kind"], "gray"),
        )


@dataclass
class DayEntryRow:
    id: str = ""
    kind: str = ""
    kind_label: str = ""
    days: int = 0
    days_text: str = ""
    balance_after: int = 0
    channel: str = ""
    comment: str = ""
    created: str = ""

    @classmethod
    def from_api(cls, entry: dict[str, Any]) -> DayEntryRow:
        channel = entry.get("channel") or {}
        days = entry["days"]
        return cls(
            id=entry["id"],
            kind=entry["kind"],
            kind_label=humanize(entry["kind"]),
            days=days,
            days_text=f"+{days}" if days > 0 else str(days),
            balance_after=entry["dayBalanceAfter"],
            channel=f"{channel['name']} ({channel['phoneNumber']})" if channel else "—",
            comment=entry["comment"],
            created=when(entry.get("createdAt")),
        )


@dataclass
class LedgerRow:
    id: str = ""
    kind: str = ""
    kind_label: str = ""
    amount_text: str = ""
    credit: bool = False
    balance_after_text: str = ""
    comment: str = ""
    reference: str = ""
    created: str = ""

    @classmethod
    def from_api(cls, entry: dict[str, Any], currency: str) -> LedgerRow:
        amount = to_decimal(entry["amount"]["amount"])
        return cls(
            id=entry["id"],
            kind=entry["kind"],
            kind_label=humanize(entry["kind"]),
            amount_text=("+" if amount > 0 else "") + money(amount, currency),
            credit=amount > 0,
            balance_after_text=money(entry["balanceAfter"]["amount"], currency),
            comment=entry.get("comment") or "",
            reference=entry.get("reference") or "",
            created=when(entry.get("createdAt")),
        )


@dataclass
class InvoiceRow:
    id: str = ""
    number: str = ""
    customer_id: str = ""
    customer_name: str = ""
    wallet_id: str = ""
    period: str = ""
    status: str = ""
    total_text: str = ""
    issued: str = ""
    due: str = ""
    paid: str = ""
    has_pdf: bool = False

    @classmethod
    def from_api(cls, invoice: dict[str, Any]) -> InvoiceRow:
        customer = invoice.get("customer") or {}
        total = invoice["total"]
        return cls(
            id=invoice["id"],
            number=invoice.get("number") or "(draft)",
            customer_id=customer.get("id", ""),
            customer_name=customer.get("name", ""),
            wallet_id=(customer.get("wallet") or {}).get("id", ""),
            period=invoice["period"],
            status=invoice["status"],
            total_text=money(total["amount"], total.get("currencyCode", "")),
            issued=day(invoice.get("issuedAt")),
            due=day(invoice.get("dueAt")),
            paid=day(invoice.get("paidAt")),
            has_pdf=bool(invoice.get("pdfUrl")),
        )


@dataclass
class Option:
    value: str
    label: str


@dataclass
class CardRow:
    """A saved card: the provider's id, brand, last4 and expiry only."""

    id: str = ""
    brand: str = ""
    last4: str = ""
    expiry: str = ""
    is_default: bool = False

    @classmethod
    def from_api(cls, method: dict[str, Any]) -> CardRow:
        return cls(
            id=method["id"],
            brand=method["brand"].capitalize(),
            last4=method["last4"],
            expiry=f"{int(method['expMonth']):02d}/{method['expYear']}",
            is_default=bool(method["isDefault"]),
        )


PAYMENT_STATUS_HELP = {
    "PENDING": "Waiting for the card to be confirmed; the money arrives when the provider says so.",
    "REQUIRES_ACTION": "The bank asks the card holder to authenticate (3-D Secure) before paying.",
    "SUCCEEDED": "",
    "FAILED": "The provider refused the payment; nothing was moved.",
    "CANCELED": "Cancelled; nothing was moved.",
}


@dataclass
class PaymentRow:
    """A payment with its status; the amount stays the API's decimal string until shown here."""

    id: str = ""
    purpose: str = ""
    status: str = ""
    amount_text: str = ""
    failure_code: str = ""
    created: str = ""
    days: int = 0  # a day purchase: the days bought
    help: str = ""
    # What the payer's browser can do: "pay" (PENDING, a card form), "authenticate" (3-D Secure).
    finish: str = ""

    @classmethod
    def from_api(cls, node: dict[str, Any], days: int = 0) -> PaymentRow:
        return cls(
            id=node["id"],
            purpose=humanize(node["purpose"]),
            status=node["status"],
            amount_text=money(node["amount"]["amount"], node["amount"]["currencyCode"]),
            failure_code=node.get("failureCode") or "",
            created=when(node.get("createdAt")),
            days=days,
            help=PAYMENT_STATUS_HELP.get(node["status"], ""),
            finish=finish_step(node),
        )


def finish_step(node: dict[str, Any]) -> str:
    """ "pay" or "authenticate" when the API gave this viewer what Stripe.js needs, else ""."""
    if not (node.get("clientSecret") and node.get("publishableKey") and node.get("stripeJsUrl")):
        return ""
    return {"PENDING": "pay", "REQUIRES_ACTION": "authenticate"}.get(node["status"], "")


def finish_details(node: dict[str, Any]) -> dict[str, str]:
    """What Stripe.js needs to finish a payment (kept server-side, by payment id)."""
    return {
        "client_secret": node.get("clientSecret") or "",
        "publishable_key": node.get("publishableKey") or "",
        "stripe_js_url": node.get("stripeJsUrl") or "",
    }
