"""The browser's part of a card setup: Stripe.js and its card Element, as scripts for
``rx.call_script``. Stdlib only (the scripts are strings), so it is unit-tested without Reflex.

Stripe.js is loaded from the URL the API gives with the SetupIntent (``CardSetup.stripeJsUrl``,
``DAYBOOK_STRIPE_JS_URL`` on the server): Stripe's own in production, a stand-in such as
localstripe's ``/js.stripe.com/v3/`` in the browser tests. The card number never reaches the
dashboard's server: the Element sends it to the provider, which answers with the SetupIntent.
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
};
"""


def mount_card_element(stripe_js_url: str, publishable_key: str) -> str:
    """A script resolving to ``{error}`` once the card Element is in ``#card-element``."""
    args = ", ".join(json.dumps(a) for a in (stripe_js_url, publishable_key, CARD_ELEMENT_ID))
    return f"{_HELPER}\nwindow.daybookCards.mount({args})"


def confirm_card_setup(client_secret: str) -> str:
    """A script resolving to ``{error, setupIntentId}`` once the provider has answered."""
    return f"{_HELPER}\nwindow.daybookCards.confirmSetup({json.dumps(client_secret)})"
