"""The GraphQL documents the dashboard sends: only names from the public contract."""

VIEWER = """
query Viewer {
  viewer {
    role
    partner { id name currencyCode }
    customer { id name wallet { id } partner { id name currencyCode } }
  }
}
"""

PARTNERS = """
query Partners($first: Int, $after: String) {
  partners(first: $first, after: $after) { id name }
}
"""

PARTNER_SUMMARY = """
query PartnerSummary($id: ID!) {
  partner(id: $id) {
    id name currencyCode dayBalance lowDaysThreshold trialEligible
    dayPrice { amount currencyCode }
  }
}
"""

WALLET_FIELDS = """
  id
  balance { amount currencyCode }
  available { amount currencyCode }
  held { amount currencyCode }
  creditLimit { amount currencyCode }
  lowBalanceThreshold { amount currencyCode }
  autoRecharge {
    enabled consecutiveFailures lastAttemptAt lastError pendingSince
    threshold { amount } amount { amount } dailyCap { amount }
  }
"""

CUSTOMERS = (
    """
query Customers($partnerId: ID!, $first: Int, $after: String) {
  partner(id: $partnerId) {
    customers(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name suspended wallet { """
    + WALLET_FIELDS
    + """ } } }
    }
  }
}
"""
)

OWN_CUSTOMER = (
    """
query OwnCustomer($id: ID!) {
  customer(id: $id) { id name suspended wallet { """
    + WALLET_FIELDS
    + """ } }
}
"""
)

CHANNEL_FIELDS = """
  id name phoneNumber phoneNumberId status activeUntil daysRemaining messagingTier createdAt
  customer { id name }
"""

PARTNER_CHANNELS = (
    """
query PartnerChannels($partnerId: ID!, $first: Int, $after: String) {
  partner(id: $partnerId) {
    channels(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { """
    + CHANNEL_FIELDS
    + """ } }
    }
  }
}
"""
)

CUSTOMER_CHANNELS = (
    """
query CustomerChannels($customerId: ID!, $first: Int, $after: String) {
  customer(id: $customerId) {
    channels(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { """
    + CHANNEL_FIELDS
    + """ } }
    }
  }
}
"""
)

ALERTS = """
query Alerts($first: Int, $partnerId: ID) {
  alerts(first: $first, partnerId: $partnerId) {
    id kind message partnerId customerId walletId channelId createdAt resolvedAt
  }
}
"""

DAY_ENTRY_FIELDS = "id kind days dayBalanceAfter comment createdAt channel { id name phoneNumber }"

DAY_ENTRIES = (
    """
query DayEntries($partnerId: ID!, $first: Int, $after: String, $channelId: ID,
                 $kind: DayEntryKind, $since: DateTime, $until: DateTime) {
  partner(id: $partnerId) {
    dayEntries(first: $first, after: $after, channelId: $channelId, kind: $kind,
               since: $since, until: $until) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { """
    + DAY_ENTRY_FIELDS
    + """ } }
    }
  }
}
"""
)

CHANNEL_REFUNDABLE = """
query ChannelRefundable($id: ID!) { channel(id: $id) { id refundableDays } }
"""

LEDGER = """
query Ledger($walletId: ID!, $first: Int, $after: String, $kind: LedgerEntryKind,
             $since: DateTime, $until: DateTime) {
  wallet(id: $walletId) {
    entries(first: $first, after: $after, kind: $kind, since: $since, until: $until) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id kind amount { amount currencyCode } balanceAfter { amount }
                     comment reference createdAt } }
    }
  }
}
"""

SPEND = """
query Spend($customerId: ID!, $since: DateTime!, $after: String) {
  conversations(customerId: $customerId, since: $since, first: 200, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { category openedAt price { amount } } }
  }
}
"""

# ---- mutations ----

CREATE_CHANNEL = (
    """
mutation CreateChannel($customerId: ID!, $name: String!, $phoneNumber: String!,
                       $phoneNumberId: String, $trial: Boolean, $fund: Boolean) {
  createChannel(customerId: $customerId, name: $name, phoneNumber: $phoneNumber,
                phoneNumberId: $phoneNumberId, trial: $trial, fundTrialFromBalance: $fund) {
    channel { """
    + CHANNEL_FIELDS
    + """ }
    dayEntry { dayBalanceAfter }
    userErrors { field code message }
  }
}
"""
)

EXTEND_CHANNELS = (
    """
mutation ExtendChannels($items: [ExtendChannelItem!]!, $comment: String!, $key: String) {
  extendChannels(items: $items, comment: $comment, idempotencyKey: $key) {
    channels { """
    + CHANNEL_FIELDS
    + """ }
    dayEntries { dayBalanceAfter }
    userErrors { field code message }
  }
}
"""
)

DELETE_CHANNEL = (
    """
mutation DeleteChannel($channelId: ID!, $comment: String!) {
  deleteChannel(channelId: $channelId, comment: $comment) {
    channel { """
    + CHANNEL_FIELDS
    + """ }
    dayEntry { days dayBalanceAfter }
    userErrors { field code message }
  }
}
"""
)

WALLET_PAYLOAD = (
    """
    wallet { """
    + WALLET_FIELDS
    + """ }
    userErrors { field code message }
"""
)

TOP_UP = (
    """
mutation TopUp($walletId: ID!, $amount: Decimal!, $comment: String, $key: String) {
  topUpWallet(walletId: $walletId, amount: $amount, comment: $comment, idempotencyKey: $key) {"""
    + WALLET_PAYLOAD
    + "} }"
)

SET_THRESHOLD = (
    """
mutation SetThreshold($walletId: ID!, $threshold: Decimal) {
  setLowBalanceThreshold(walletId: $walletId, threshold: $threshold) {"""
    + WALLET_PAYLOAD
    + "} }"
)

SET_CREDIT_LIMIT = (
    """
mutation SetCreditLimit($walletId: ID!, $creditLimit: Decimal!) {
  setCreditLimit(walletId: $walletId, creditLimit: $creditLimit) {"""
    + WALLET_PAYLOAD
    + "} }"
)

CONFIGURE_AUTO_RECHARGE = (
    """
mutation ConfigureAutoRecharge($walletId: ID!, $input: AutoRechargeInput!) {
  configureAutoRecharge(walletId: $walletId, input: $input) {"""
    + WALLET_PAYLOAD
    + "} }"
)

SET_LOW_DAYS = """
mutation SetLowDays($partnerId: ID!, $days: Int) {
  setLowDaysThreshold(partnerId: $partnerId, days: $days) {
    partner { lowDaysThreshold dayBalance }
    userErrors { field code message }
  }
}
"""

# ---- invoices (issue 6) ----

INVOICE_FIELDS = """
  id number period status issuedAt dueAt paidAt pdfUrl
  customer { id name wallet { id } }
  subtotal { amount currencyCode } tax { amount } total { amount currencyCode }
"""

CUSTOMER_INVOICES = (
    """
query CustomerInvoices($customerId: ID!, $status: InvoiceStatus, $after: String) {
  customer(id: $customerId) {
    invoices(first: 200, after: $after, status: $status) {
      pageInfo { hasNextPage endCursor }
      edges { node { """
    + INVOICE_FIELDS
    + """ } }
    }
  }
}
"""
)

PARTNER_INVOICES = (
    """
query PartnerInvoices($partnerId: ID!, $status: InvoiceStatus, $after: String) {
  partner(id: $partnerId) {
    invoices(first: 200, after: $after, status: $status) {
      pageInfo { hasNextPage endCursor }
      edges { node { """
    + INVOICE_FIELDS
    + """ } }
    }
  }
}
"""
)

INVOICE_PAYLOAD = (
    """
    invoice { """
    + INVOICE_FIELDS
    + """ }
    userErrors { field code message }
"""
)

GENERATE_INVOICES = """
mutation GenerateInvoices($period: String!) {
  generateInvoices(period: $period) {
    invoices { id }
    userErrors { field code message }
  }
}
"""

FINALIZE_INVOICE = (
    "mutation Finalize($id: ID!) { finalizeInvoice(invoiceId: $id) {" + INVOICE_PAYLOAD + "} }"
)

PAY_INVOICE = (
    "mutation Pay($id: ID!, $key: String) { payInvoiceFromWallet(invoiceId: $id, "
    "idempotencyKey: $key) {" + INVOICE_PAYLOAD + "} }"
)

MARK_INVOICE_PAID = (
    "mutation MarkPaid($id: ID!, $comment: String!) { markInvoicePaid(invoiceId: $id, "
    "comment: $comment) {" + INVOICE_PAYLOAD + "} }"
)

VOID_INVOICE = (
    "mutation Void($id: ID!, $comment: String!) { voidInvoice(invoiceId: $id, "
    "comment: $comment) {" + INVOICE_PAYLOAD + "} }"
)

# ---- subscriptions ----

SUB_BALANCE = (
    """
subscription Balance {
  balanceChanged {
    wallet { """
    + WALLET_FIELDS
    + """ }
    entry { id kind amount { amount currencyCode } balanceAfter { amount }
            comment reference createdAt }
  }
}
"""
)

SUB_DAYS = (
    """
subscription Days {
  dayBalanceChanged {
    partner { id dayBalance lowDaysThreshold }
    entry { """
    + DAY_ENTRY_FIELDS
    + """ }
  }
}
"""
)

SUB_CHANNELS = (
    """
subscription Channels {
  channelChanged { """
    + CHANNEL_FIELDS
    + """ }
}
"""
)

SUB_ALERTS = """
subscription Alerts {
  alerts { id kind message partnerId customerId walletId channelId createdAt resolvedAt }
}
"""

# ---- payments (cards, top-ups by card, days bought from the platform) ----

PAYMENT_METHOD_FIELDS = "id brand last4 expMonth expYear isDefault"
PAYMENT_FIELDS = (
    "id purpose status amount { amount currencyCode } failureCode clientSecret createdAt"
    " publishableKey stripeJsUrl"
)

CARDS = (
    """
query Cards($customerId: ID!) {
  customer(id: $customerId) { id paymentMethods { """
    + PAYMENT_METHOD_FIELDS
    + """ } }
}
"""
)

WALLET_PAYMENTS = (
    """
query WalletPayments($walletId: ID!, $first: Int) {
  wallet(id: $walletId) { id payments(first: $first) { totalCount edges { node { """
    + PAYMENT_FIELDS
    + """ } } } }
}
"""
)

START_CARD_SETUP = """
mutation StartCardSetup($customerId: ID!) {
  startCardSetup(customerId: $customerId) {
    setup { clientSecret publishableKey stripeJsUrl }
    userErrors { field code message }
  }
}
"""

METHODS_PAYLOAD = (
    "{ paymentMethods { " + PAYMENT_METHOD_FIELDS + " } userErrors { field code message } }"
)

COMPLETE_CARD_SETUP = (
    """
mutation CompleteCardSetup($customerId: ID!, $setupIntentId: String!) {
  completeCardSetup(customerId: $customerId, setupIntentId: $setupIntentId) """
    + METHODS_PAYLOAD
    + "\n}\n"
)

SET_DEFAULT_CARD = (
    """
mutation SetDefaultCard($customerId: ID!, $id: ID!) {
  setDefaultPaymentMethod(customerId: $customerId, paymentMethodId: $id) """
    + METHODS_PAYLOAD
    + "\n}\n"
)

REMOVE_CARD = (
    """
mutation RemoveCard($customerId: ID!, $id: ID!) {
  removePaymentMethod(customerId: $customerId, paymentMethodId: $id) """
    + METHODS_PAYLOAD
    + "\n}\n"
)

PAY_TOP_UP = (
    """
mutation PayTopUp($walletId: ID!, $amount: Decimal!, $key: String!, $method: ID) {
  payTopUp(walletId: $walletId, amount: $amount, idempotencyKey: $key, paymentMethodId: $method) {
    payment { """
    + PAYMENT_FIELDS
    + """ } replayed userErrors { field code message }
  }
}
"""
)

DAY_PURCHASES = (
    """
query DayPurchases($partnerId: ID!, $first: Int) {
  partner(id: $partnerId) { id dayBalance dayPrice { amount currencyCode }
    dayPurchases(first: $first) { totalCount edges { node { """
    + PAYMENT_FIELDS
    + """ dayEntry { days } } } } }
}
"""
)

BUY_DAYS = (
    """
mutation BuyDays($partnerId: ID!, $days: Int!, $key: String!) {
  buyDays(partnerId: $partnerId, days: $days, idempotencyKey: $key) {
    payment { """
    + PAYMENT_FIELDS
    + """ dayEntry { days } } replayed userErrors { field code message }
  }
}
"""
)
