"""The scripts that drive Stripe.js in the browser carry their arguments as JSON literals."""

from __future__ import annotations

import json

from frontend import stripe_js
from frontend.forms import whole_days


def test_arguments_are_json_literals_not_code() -> None:
    hostile = "pk_'); alert(1); ('"
    script = stripe_js.mount_card_element("https://js.stripe.com/v3/", hostile)
    assert json.dumps(hostile) in script
    assert script.rstrip().endswith(
        f'mount("https://js.stripe.com/v3/", {json.dumps(hostile)}, "card-element")'
    )
    confirm = stripe_js.confirm_card_setup('seti_1_secret_"x')
    assert confirm.rstrip().endswith('confirmSetup("seti_1_secret_\\"x")')
    pay = stripe_js.confirm_card_payment('pi_1_secret_"x')
    assert pay.rstrip().endswith('confirmPayment("pi_1_secret_\\"x")')
    step = stripe_js.authenticate_payment("https://js.stripe.com/v3/", hostile, "pi_1_secret_x")
    assert step.rstrip().endswith(
        f'authenticate("https://js.stripe.com/v3/", {json.dumps(hostile)}, "pi_1_secret_x")'
    )


def test_days_to_buy_are_whole_numbers_in_range() -> None:
    assert whole_days(" 10 ") == 10
    assert whole_days("1000000") == 1_000_000
    assert whole_days("31", maximum=30) is None
    for text in ("", "0", "-5", "2.5", "1e3", "1000001", "ten", "\u0661\u0662"):
        assert whole_days(text) is None
