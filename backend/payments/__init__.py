"""Money in through a payment provider (Stripe): the gateway and the provider's webhook."""
