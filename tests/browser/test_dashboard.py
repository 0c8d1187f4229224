"""The partner dashboard in a real headless Chromium, against the real API and Reflex servers.

Every check of "nothing changed" asks the API itself, not the page.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal

from playwright.sync_api import Browser, Page, expect

from frontend.formatting import money
from tests.browser.conftest import World, screenshot
from tests.browser.world import Tenant
from tests.servers import ROOT

PARTNER_STATE = """
query($p: ID!, $c: ID!) {
  partner(id: $p) { dayBalance dayEntries(first: 1) { totalCount } }
  channel(id: $c) { daysRemaining activeUntil }
}
"""
WALLETS = """
query($p: ID!) { partner(id: $p) { customers(first: 200) { edges { node {
  wallet { id balance { amount } } } } } } }
"""
INVOICE_STATUS = "query($id: ID!) { invoice(id: $id) { status } }"


def sign_in(page: Page, world: World, key: str) -> float:
    """Sign in; return the seconds from the click to the overview fully rendered."""
    page.goto(f"{world.dashboard_url}/signin")
    page.fill("#api-key", key)
    started = time.perf_counter()
    page.click("#sign-in")
    expect(page.locator("#overview-ready")).to_be_visible(timeout=30000)
    return time.perf_counter() - started


def go(page: Page, name: str) -> None:
    page.click(f"#nav-{name}")
    expect(page).to_have_url(re.compile(f"/{name}"))


def partner_state(world: World, channel_id: str) -> dict:
    return world.api(world.demo.key, PARTNER_STATE, {"p": world.demo.partner_id, "c": channel_id})


def total_amount(world: World, tenant: Tenant) -> Decimal:
    data = world.api(tenant.key, WALLETS, {"p": tenant.partner_id})
    edges = data["partner"]["customers"]["edges"]
    return sum((Decimal(e["node"]["wallet"]["balance"]["amount"]) for e in edges), Decimal(0))


def total_balance(world: World, tenant: Tenant) -> str:
    """The total as the overview shows it (exact: sub-cent charges keep their digits)."""
    return money(total_amount(world, tenant), "USD")


def test_partner_extends_a_channel_by_five_days(page: Page, world: World) -> None:
    channel = world.demo.channels[0]
    before = partner_state(world, channel)
    sign_in(page, world, world.demo.key)
    expect(page.locator("#day-balance")).to_have_text(f"{before['partner']['dayBalance']} days")
    screenshot(page, "overview")

    go(page, "channels")
    days = page.locator(f"#days-{channel}")
    expect(days).to_have_text(str(before["channel"]["daysRemaining"]))
    page.click(f"#extend-{channel}")
    page.locator("#extend-presets").get_by_role("radio", name="5 days").click()
    page.fill("#extend-comment", "Five more days for the spring promotion")
    expect(page.locator("#extend-cost")).to_contain_text("5 days x 1 channel = 5 days")
    expect(page.locator("#extend-balance-after")).to_have_text(
        str(before["partner"]["dayBalance"] - 5)
    )
    screenshot(page, "extend-dialog")
    page.click("#extend-confirm")

    expect(days).to_have_text(str(before["channel"]["daysRemaining"] + 5))
    expect(page.locator("#channels-day-balance")).to_have_text(
        f"{before['partner']['dayBalance'] - 5} days"
    )
    screenshot(page, "channels")

    go(page, "billing")
    first_row = page.locator(".day-entry-row").first
    expect(first_row).to_contain_text("Five more days for the spring promotion")
    expect(first_row).to_contain_text("-5")
    screenshot(page, "billing")

    after = partner_state(world, channel)
    assert after["partner"]["dayBalance"] == before["partner"]["dayBalance"] - 5
    assert after["channel"]["daysRemaining"] == before["channel"]["daysRemaining"] + 5


def test_changes_by_another_client_appear_live_and_low_balance_toasts(
    page: Page, world: World
) -> None:
    sign_in(page, world, world.demo.key)
    expect(page.locator("#live-badge")).to_have_text(re.compile("Live"))
    customer = world.demo.customers[0]
    started = time.perf_counter()
    world.api.mutate(
        world.demo.key,
        'mutation($w: ID!) { topUpWallet(walletId: $w, amount: "7.25", comment: "Card payment") '
        "{ userErrors { code message } } }",
        {"w": customer["wallet"]},
        "topUpWallet",
    )
    expected = total_balance(world, world.demo)
    expect(page.locator("#total-balance")).to_have_text(expected, timeout=2000)
    print(
        f"\n[bench] top-up by another client to the overview: {1000 * (time.perf_counter() - started):.0f} ms"
    )

    # A charge that takes a wallet under its 20.00 threshold: the alert is pushed as a toast.
    low = world.demo.customers[2]
    world.api.mutate(
        world.demo.key,
        'mutation($w: ID!) { chargeIntegration(walletId: $w, amount: "45.00", '
        'comment: "CRM integration, March") { userErrors { code message } } }',
        {"w": low["wallet"]},
        "chargeIntegration",
    )
    toast = page.locator("[data-sonner-toast]", has_text="Low balance")
    expect(toast.first).to_be_visible(timeout=2000)
    expect(page.locator("#alerts")).to_contain_text("below the threshold")
    screenshot(page, "overview-live")

    # The wallets page follows a charge too, ledger row included.
    page.goto(f"{world.dashboard_url}/wallets?customer={customer['id']}")
    expect(page.locator("#wallet-customer")).to_have_text(customer["name"])
    expect(page.locator("#ledger-table")).to_be_visible()
    balance = page.locator("#wallet-balance")
    shown = balance.inner_text()
    world.api.mutate(
        world.demo.key,
        'mutation($w: ID!) { chargeIntegration(walletId: $w, amount: "1.50", '
        'comment: "SMS fallback") { userErrors { code message } } }',
        {"w": customer["wallet"]},
        "chargeIntegration",
    )
    expect(balance).not_to_have_text(shown, timeout=2000)
    expect(page.locator(".ledger-row").first).to_contain_text("SMS fallback", timeout=2000)
    screenshot(page, "wallets")


def test_blank_comment_and_too_many_days_show_errors_and_change_nothing(
    page: Page, world: World
) -> None:
    channel = world.demo.channels[1]
    before = partner_state(world, channel)
    sign_in(page, world, world.demo.key)
    go(page, "channels")

    page.click(f"#extend-{channel}")
    page.locator("#extend-presets").get_by_role("radio", name="5 days").click()
    page.fill("#extend-comment", "   ")
    page.click("#extend-confirm")
    error = page.locator("#extend-form .field-error")
    expect(error).to_have_text(re.compile("comment is required", re.I))
    assert partner_state(world, channel) == before

    page.locator("#extend-presets").get_by_role("radio", name="Custom").click()
    page.fill("#extend-custom", "3650")
    page.fill("#extend-comment", "Ten years at once")
    expect(page.locator("#extend-balance-after")).to_have_text(
        str(before["partner"]["dayBalance"] - 3650)
    )
    page.click("#extend-confirm")
    expect(page.locator("#extend-days-error")).to_have_text(
        re.compile(f"has {before['partner']['dayBalance']} days; 3650 were needed")
    )
    screenshot(page, "extend-error")
    assert partner_state(world, channel) == before
    expect(page.locator(f"#days-{channel}")).to_have_text(str(before["channel"]["daysRemaining"]))


def test_customer_key_cannot_reach_partner_pages(page: Page, world: World) -> None:
    customer = world.demo.customers[0]
    sign_in(page, world, customer["key"])
    expect(page.locator("#viewer-label")).to_contain_text(customer["name"])
    expect(page.locator("#nav-billing")).to_have_count(0)
    expect(page.locator("#day-balance")).to_have_count(0)

    page.goto(f"{world.dashboard_url}/billing")
    expect(page.locator("#notice")).to_contain_text("for partners")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#billing-table")).to_have_count(0)

    go(page, "channels")
    expect(page.locator(".channel-row").first).to_be_visible()
    expect(page.locator("#new-channel")).to_have_count(0)
    expect(page.locator("[id^=extend-]")).to_have_count(0)
    expect(page.locator("[id^=delete-]")).to_have_count(0)

    # Sign-out forgets the key: the tab's sessionStorage no longer has it.
    page.click("#sign-out")
    expect(page).to_have_url(re.compile("/signin"))
    assert not page.evaluate("window.sessionStorage.getItem('daybook_api_key')")
    page.goto(f"{world.dashboard_url}/channels")
    expect(page).to_have_url(re.compile("/signin"))


def test_admin_chooses_a_partner(page: Page, world: World) -> None:
    page.goto(f"{world.dashboard_url}/signin")
    page.fill("#api-key", world.admin_key)
    page.click("#sign-in")
    expect(page.locator("#choose-partner")).to_be_visible()
    page.click("#partner-picker")
    page.get_by_role("option", name="Harbour Telecom").click()
    expect(page.locator("#overview-ready")).to_be_visible()
    balance = world.api(
        world.admin_key,
        "query($p: ID!) { partner(id: $p) { dayBalance } }",
        {"p": world.demo.partner_id},
    )["partner"]["dayBalance"]
    expect(page.locator("#day-balance")).to_have_text(f"{balance} days")

    # Another partner: its overview shows its own alerts only, not Harbour Telecom's.
    page.click("#partner-picker")
    page.get_by_role("option", name="Bulk Reseller").click()
    expect(page.locator("#channel-count")).to_have_text("1000 active")
    expect(page.locator("#live-badge")).to_have_text(re.compile("Live"))
    expect(page.locator("#alerts", has_text="below the threshold")).to_have_count(0)

    # Back to Harbour Telecom: the live task follows the new choice, so a top-up made by
    # another client appears without a reload (it used to stay Offline after a choice).
    page.click("#partner-picker")
    page.get_by_role("option", name="Harbour Telecom").click()
    expect(page.locator("#day-balance")).to_have_text(f"{balance} days")
    expect(page.locator("#live-badge")).to_have_text(re.compile("Live"))
    world.api.mutate(
        world.demo.key,
        'mutation($w: ID!) { topUpWallet(walletId: $w, amount: "3.10", comment: "Admin view") '
        "{ userErrors { code message } } }",
        {"w": world.demo.customers[1]["wallet"]},
        "topUpWallet",
    )
    expect(page.locator("#total-balance")).to_have_text(
        total_balance(world, world.demo), timeout=2000
    )


def test_invoice_actions(page: Page, world: World) -> None:
    sign_in(page, world, world.demo.key)
    go(page, "invoices")
    page.click("#generate")
    rows = page.locator(".invoice-row")
    expect(rows).to_have_count(len(world.demo.customers))
    invoice_ids = []
    for customer in world.demo.customers:  # one draft each, found by the customer's name
        button = rows.filter(has_text=customer["name"]).locator("[id^=finalize-]")
        invoice_ids.append(button.get_attribute("id").removeprefix("finalize-"))
    paid_from_wallet, marked, voided, unaffordable = invoice_ids
    for invoice_id in invoice_ids:
        page.click(f"#finalize-{invoice_id}")
        expect(page.locator(f"#invoice-status-{invoice_id}")).to_have_text("Open")

    # A double click pays once and replays the second time: no error on the row.
    page.dblclick(f"#pay-{paid_from_wallet}")
    expect(page.locator(f"#invoice-status-{paid_from_wallet}")).to_have_text("Paid")
    page.wait_for_timeout(500)  # let the second click's answer arrive before looking for errors
    expect(page.locator(f"#invoice-error-{paid_from_wallet}")).to_have_count(0)

    page.click(f"#mark-{marked}")
    page.click("#invoice-comment-confirm")  # blank: refused next to the comment field
    expect(page.locator(".field-error", has_text="comment")).to_be_visible()
    page.fill("#invoice-comment", "Paid by bank transfer, ref 5521")
    page.click("#invoice-comment-confirm")
    expect(page.locator(f"#invoice-status-{marked}")).to_have_text("Paid")

    page.click(f"#void-{voided}")
    page.fill("#invoice-comment", "Billed twice by mistake")
    page.click("#invoice-comment-confirm")
    expect(page.locator(f"#invoice-status-{voided}")).to_have_text("Void")

    # The last customer's wallet cannot cover it: the reason shows on its row, nothing moves.
    page.click(f"#pay-{unaffordable}")
    expect(page.locator(f"#invoice-error-{unaffordable}")).to_be_visible()
    expect(page.locator(f"#invoice-status-{unaffordable}")).to_have_text("Open")

    with page.expect_download() as download:
        page.click(f"#pdf-{paid_from_wallet}")
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    screenshot(page, "invoices")

    statuses = [
        world.api(world.demo.key, INVOICE_STATUS, {"id": i})["invoice"]["status"]
        for i in invoice_ids
    ]
    assert statuses == ["PAID", "PAID", "VOID", "OPEN"]


def test_phone_width_has_no_sideways_scroll(browser: Browser, world: World) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, world, world.demo.key)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] + 1, widths
        screenshot(page, "overview-phone")
        go(page, "channels")
        expect(page.locator(".channel-row").first).to_be_visible()
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] + 1, widths
        screenshot(page, "channels-phone")
    finally:
        context.close()


def test_benchmark_overview_with_200_customers_and_1000_channels(page: Page, world: World) -> None:
    """Prints the figures; the targets (1.5 s, 500 ms) are reported, never asserted."""
    bulk = world.bulk
    seconds = sign_in(page, world, bulk.key)
    expect(page.locator("#channel-count")).to_have_text("1000 active")
    print(
        f"\n[bench] sign-in to overview rendered, 200 customers / 1,000 channels: {1000 * seconds:.0f} ms (target 1500 ms)"
    )

    latencies = []
    total = total_amount(world, bulk)
    for n in range(5):
        wallet = bulk.customers[n]["wallet"]
        started = time.perf_counter()
        world.api.mutate(
            bulk.key,
            'mutation($w: ID!) { topUpWallet(walletId: $w, amount: "1.00") { userErrors { code message } } }',
            {"w": wallet},
            "topUpWallet",
        )
        total += Decimal("1.00")
        expected = money(total, "USD")
        page.wait_for_function(
            "t => document.querySelector('#total-balance').innerText === t",
            arg=expected,
            polling="raf",
            timeout=5000,
        )
        latencies.append(1000 * (time.perf_counter() - started))
    latencies.sort()
    print(
        f"[bench] API mutation to screen (5 top-ups): median {latencies[2]:.0f} ms, max {latencies[-1]:.0f} ms (target 500 ms)"
    )
    screenshot(page, "overview-bulk")


def test_create_with_trial_and_delete_with_refund(page: Page, world: World) -> None:
    sign_in(page, world, world.demo.key)
    go(page, "channels")

    page.click("#new-channel")
    page.fill("#create-name", "Weekend hotline")
    page.fill("#create-phone", "+1 415 555")
    page.click("#create-confirm")
    expect(page.locator(".field-error", has_text="not a valid phone number")).to_be_visible()

    page.fill("#create-phone", "+14155557777")
    # The corrected number clears its error, which moves the trial switch up a line: wait
    # for that before clicking the switch, or the click can land where it used to be.
    invalid_phone = page.locator(".field-error", has_text="not a valid phone number")
    expect(invalid_phone).to_have_count(0)
    page.click("#create-trial")
    expect(page.locator("#create-trial")).to_be_checked()
    page.click("#create-confirm")
    page.fill("#channel-search", "Weekend hotline")
    row = page.locator(".channel-row", has_text="Weekend hotline")
    expect(row).to_contain_text("Trial")

    # Delete a paid channel: the refund shown before confirming is what the API returns.
    channel = world.demo.channels[2]
    before = partner_state(world, channel)
    page.fill("#channel-search", "")
    page.click(f"#delete-{channel}")
    refund = page.locator("#delete-refund")
    expect(refund).to_contain_text("unused paid day")
    shown = int(re.search(r"(\d+) unused paid day", refund.inner_text()).group(1))
    assert shown == before["channel"]["daysRemaining"]
    page.fill("#delete-comment", "Customer closed this line")
    page.click("#delete-confirm")
    expect(page.locator("#channels-day-balance")).to_have_text(
        f"{before['partner']['dayBalance'] + shown} days"
    )
    after = partner_state(world, channel)
    assert after["partner"]["dayBalance"] == before["partner"]["dayBalance"] + shown


def test_an_amount_that_is_not_plain_is_refused_next_to_the_field(page: Page, world: World) -> None:
    """ "1,50" is not 150, "1e3" is not 1000: the form says so and no money moves."""
    customer = world.demo.customers[3]
    sign_in(page, world, world.demo.key)
    page.goto(f"{world.dashboard_url}/wallets?customer={customer['id']}")
    expect(page.locator("#wallet-customer")).to_have_text(customer["name"])
    before = total_amount(world, world.demo)
    for typed in ("1,50", "1e3", "1 000,50"):
        page.fill("#topup-amount", typed)
        page.click("#topup-confirm")
        expect(page.locator(".field-error", has_text="such as 25.50")).to_be_visible()
    assert total_amount(world, world.demo) == before


def test_no_api_key_is_written_to_disk(page: Page, world: World) -> None:
    """Reflex's disk state manager pickled every tab's state, key included, to .states/*.pkl."""
    sign_in(page, world, world.demo.key)
    go(page, "wallets")
    expect(page.locator("#wallet-customer")).to_be_visible()
    states = ROOT / ".states"
    keys = [world.demo.key.encode(), world.admin_key.encode(), world.bulk.key.encode()]
    files = [path for path in states.rglob("*") if path.is_file()] if states.exists() else []
    leaked = [str(path) for path in files if any(key in path.read_bytes() for key in keys)]
    assert leaked == []


WALLET_SETTINGS = """query($w: ID!) { wallet(id: $w) {
  lowBalanceThreshold { amount } creditLimit { amount } } }"""


def test_wallet_settings_refused_in_part_say_which_and_keep_the_rest(
    page: Page, world: World
) -> None:
    sign_in(page, world, world.demo.key)
    customer = world.demo.customers[1]
    page.goto(f"{world.dashboard_url}/wallets?customer={customer['id']}")
    expect(page.locator("#wallet-customer")).to_have_text(customer["name"])
    before = world.api(world.demo.key, WALLET_SETTINGS, {"w": customer["wallet"]})["wallet"]
    shown_limit = page.locator("#wallet-credit").inner_text()

    page.fill("#threshold", "7.25")
    page.fill("#credit-limit", "9999999999999")  # past the largest balance: the API refuses it
    page.click("#settings-save")
    expect(page.locator(".field-error").first).to_contain_text("must not exceed")

    after = world.api(world.demo.key, WALLET_SETTINGS, {"w": customer["wallet"]})["wallet"]
    assert after["lowBalanceThreshold"] == {"amount": "7.25"}  # the part that was accepted
    assert after["creditLimit"] == before["creditLimit"]  # the refused part changed nothing
    assert page.locator("#wallet-credit").inner_text() == shown_limit
