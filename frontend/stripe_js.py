"""The browser's part of a card setup: Stripe.js and its card Element, as scripts for
``rx.call_script``. Stdlib only (the scripts are strings), so it is unit-tested without Reflex.

Stripe.js is loaded from the URL the API gives with the SetupIntent (``CardSetup.stripeJsUrl``,
``DAYBOOK_STRIPE_JS_URL`` on the server): Stripe's own in production, a stand-in such as
localstripe's ``/js.stripe.com/v3/`` in the browser tests. The card number never reaches the
dashboard's server: the Element sends it to the provider, which answers with the SetupIntent.

A payment the browser must finish (``Payment.clientSecret``) is paid the same way: a card Element
mounted with ``Payment.publishableKey`` (the account that made the PaymentIntent, the platform's
for a day purchase) and ``confirmCardPayment``; REQUIRES_ACTION is authenticated (3-D Secure) with
``confirmCardPayment(clientSecret)`` alone.
"""

from __future__ import annotations

import json

CARD_ELEMENT_ID = "card-element"

# Defined once per page: loads Stripe.js (once per URL), mounts a fresh card Element, confirms.
_HELPER = """
window.daybookCards = window.daybookCards || {
  loaded: {},
  load(url) {
    if (this.loaded[url]) return this.loaded[url];
    this.loaded[url] = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = url;
      script.onload = () => resolve();
      script.onerror = () => {
        delete this.loaded[url];
        reject(new Error('Stripe.js could not be loaded from ' + url));
      };
      document.head.appendChild(script);
    });
    return this.loaded[url];
  },
  async mount(url, publishableKey, elementId) {
    try {
      await this.load(url);
      if (this.card) { try { this.card.destroy(); } catch (e) {} }
      const target = document.getElementById(elementId);
      if (!target) return {error: 'The card form is not on the page.'};
      target.replaceChildren();
      this.stripe = window.Stripe(publishableKey);
      // What was mounted, and for which account: read by the browser tests.
      this.mounted = {url, publishableKey, elementId};
      this.card = this.stripe.elements().create('card');
      this.card.mount(target);
      return {error: ''};
    } catch (e) {
      return {error: String((e && e.message) || e)};
    }
  },
  async confirmSetup(clientSecret) {
    if (!this.stripe || !this.card) return {error: 'The card form is not ready.', setupIntentId: ''};
    try {
      const result = await this.stripe.confirmCardSetup(clientSecret, {payment_method: {card: this.card}});
      if (result.error) {
        const e = result.error;
        return {error: String(e.message || e.code || e), setupIntentId: ''};
      }
      return {error: '', setupIntentId: result.setupIntent.id};
    } catch (e) {
      return {error: String((e && e.message) || e), setupIntentId: ''};
    }
  },
  async confirmPayment(clientSecret) {
    if (!this.stripe || !this.card) return {error: 'The card form is not ready.', status: ''};
    try {
      const result = await this.stripe.confirmCardPayment(
        clientSecret, {payment_method: {card: this.card}});
      if (result.error) {
        const e = result.error;
        return {error: String(e.message || e.code || e), status: ''};
      }
      return {error: '', status: String((result.paymentIntent || {}).status || '')};
    } catch (e) {
      return {error: String((e && e.message) || e), status: ''};
    }
  },
  async authenticate(url, publishableKey, clientSecret) {
    try {
      await this.load(url);
      const stripe = window.Stripe(publishableKey);
      this.authenticated = {url, publishableKey};
      const result = await stripe.confirmCardPayment(clientSecret);
      if (result.error) {
        const e = result.error;
        return {error: String(e.message || e.code || e), status: ''};
      }
      return {error: '', status: String((result.paymentIntent || {}).status || '')};
    } catch (e) {
      return {error: String((e && e.message) || e), status: ''};
    }
  },
};
"""


def mount_card_element(
    stripe_js_url: str, publishable_key: str, element_id: str = CARD_ELEMENT_ID
) -> str:
    """A script resolving to ``{error}`` once the card Element is in ``#element_id``."""
    args = ", ".join(json.dumps(a) for a in (stripe_js_url, publishable_key, element_id))
    return f"{_HELPER}\nwindow.daybookCards.mount({args})"


def confirm_card_setup(client_secret: str) -> str:
    """A script resolving to ``{error, setupIntentId}`` once the provider has answered."""
    return f"{_HELPER}\nwindow.daybookCards.confirmSetup({json.dumps(client_secret)})"


def confirm_card_payment(client_secret: str) -> str:
    """Pay a PENDING PaymentIntent with the card Element mounted last: ``{error, status}``."""
    return f"{_HELPER}\nwindow.daybookCards.confirmPayment({json.dumps(client_secret)})"


def authenticate_payment(stripe_js_url: str, publishable_key: str, client_secret: str) -> str:
    """The bank's authentication (3-D Secure) of a REQUIRES_ACTION PaymentIntent:
    ``stripe.confirmCardPayment(clientSecret)``, resolving to ``{error, status}``."""
    args = ", ".join(json.dumps(a) for a in (stripe_js_url, publishable_key, client_secret))
    return f"{_HELPER}\nwindow.daybookCards.authenticate({args})"
