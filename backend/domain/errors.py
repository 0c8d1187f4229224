"""The error hierarchy every domain rule raises, and the one place every public code lives.

Each error carries a stable ``code`` (part of the public contract, shown to
integrators as ``userErrors[].code``), a human message, and optionally the
input ``field`` path it concerns. The API layer turns any ``DomainError`` into
a userError; anything else is a bug and is reported as an internal error.
"""

from __future__ import annotations


class DomainError(Exception):
    code: str = "ERROR"

    def __init__(self, message: str, *, field: list[str] | str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if isinstance(field, str):
            field = [field]
        self.field = field


class NotFound(DomainError):
    """Missing, or belonging to another tenant: the two are told apart to nobody."""

    code = "NOT_FOUND"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class InvalidArgument(DomainError):
    code = "INVALID_ARGUMENT"


class InvalidAmount(InvalidArgument):
    code = "INVALID_AMOUNT"


class InvalidDays(InvalidArgument):
    code = "INVALID_DAYS"


class InvalidComment(InvalidArgument):
    code = "INVALID_COMMENT"


class InvalidCurrency(InvalidArgument):
    code = "INVALID_CURRENCY"


class CurrencyMismatch(InvalidArgument):
    code = "CURRENCY_MISMATCH"


class InsufficientFunds(DomainError):
    code = "INSUFFICIENT_FUNDS"


class InsufficientDays(DomainError):
    code = "INSUFFICIENT_DAYS"


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"


class InvalidPeriod(InvalidArgument):
    """Not ``YYYY-MM``, or a month that has not ended yet."""

    code = "INVALID_PERIOD"


class InvoiceNotDraft(DomainError):
    """Only a DRAFT can be finalised: finalising twice is refused, not repeated."""

    code = "INVOICE_NOT_DRAFT"


class InvoiceNotOpen(DomainError):
    """Only an OPEN invoice can be paid: a DRAFT is not issued, a PAID or VOID one is settled."""

    code = "INVOICE_NOT_OPEN"


class InvoiceAlreadyPaid(DomainError):
    """A PAID invoice cannot be voided: the money has moved."""

    code = "INVOICE_ALREADY_PAID"


class InvalidRateCard(InvalidArgument):
    code = "INVALID_RATE_CARD"


class NoRateCard(DomainError):
    code = "NO_RATE_CARD"


class ChannelInactive(DomainError):
    code = "CHANNEL_INACTIVE"


class CustomerSuspended(DomainError):
    code = "CUSTOMER_SUSPENDED"


class TierLimitExceeded(DomainError):
    code = "TIER_LIMIT_EXCEEDED"


class DuplicateRecipient(InvalidArgument):
    code = "DUPLICATE_RECIPIENT"


class InvalidPhoneNumber(InvalidArgument):
    code = "INVALID_PHONE_NUMBER"


class PhoneNumberInUse(DomainError):
    code = "PHONE_NUMBER_IN_USE"


class PhoneNumberIdInUse(DomainError):
    code = "PHONE_NUMBER_ID_IN_USE"


class TrialNotEligible(DomainError):
    code = "TRIAL_NOT_ELIGIBLE"


class TrialAlreadyUsed(DomainError):
    code = "TRIAL_ALREADY_USED"


class ChannelDeleted(DomainError):
    code = "CHANNEL_DELETED"


class DuplicateChannel(InvalidArgument):
    code = "DUPLICATE_CHANNEL"


class PaymentsNotConfigured(DomainError):
    """No payment account is connected where this payment would be collected."""

    code = "PAYMENTS_NOT_CONFIGURED"


class ProviderUnavailable(DomainError):
    """The payment provider did not answer in time (or refused our credentials)."""

    code = "PROVIDER_UNAVAILABLE"


class PaymentFailed(DomainError):
    """The provider refused the request (a card it declines when saved, a bad setup)."""

    code = "PAYMENT_FAILED"
