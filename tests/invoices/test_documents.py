"""The invoice PDF and the wallet ledger CSV, fetched over HTTP with the bearer key."""

from __future__ import annotations

import csv
import io

from pypdf import PdfReader

from backend.domain.models import Invoice, InvoiceRun
from backend.jobs import runner
from tests.factories import CHARGE
from tests.invoices.conftest import FINALIZE
from tests.invoices.test_generation import march
from tests.invoices.test_lifecycle import one_invoice


def pdf_text(body: bytes) -> str:
    """The text of every page, blanks and line breaks collapsed (long cells wrap)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    return " ".join(text.split())


async def test_the_pdf_holds_number_total_and_due_date(billing, http):
    people = await march(billing)
    generated = await billing.partner.mutate(
        """mutation { generateInvoices(period: "2026-03") { invoices { id customer { id } }
             userErrors { code } } }"""
    )
    bea_id = next(i["id"] for i in generated["invoices"] if i["customer"]["id"] == people["bea"].id)
    opened = (await billing.partner.mutate(FINALIZE, {"id": bea_id}))["invoice"]
    response = await http.get(
        opened["pdfUrl"].removeprefix("http://test"),
        headers={"Authorization": f"Bearer {people['bea'].client.key}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    for expected in (
        opened["number"],  # P1-2026-000001
        "24.387097 USD",  # the total
        "2026-04-16",  # due: issued 1 April 00:05 + 15 days
        "Acme Reseller",
        "Bea",
        "2026-03",
        "Growth plan, 2026-03 (21 of 31 days, pro rata)",
        "4.064516 USD",  # tax
        "Prepaid statement",
        "Marketing conversations, DE",
        "Integration: CRM sync",
    ):
        assert expected in text, f"{expected!r} not in the PDF text:\n{text}"


async def test_a_draft_pdf_says_it_is_not_issued_and_needs_a_key(billing, http):
    _, draft = await one_invoice(billing)
    url = f"/invoices/{draft['id']}.pdf"
    assert (await http.get(url)).status_code == 401
    response = await http.get(url, headers={"Authorization": f"Bearer {billing.partner.key}"})
    text = pdf_text(response.content)
    assert f"DRAFT-{draft['id']}" in text and "not issued" in text
    assert (
        await http.get(
            "/invoices/abc.pdf", headers={"Authorization": f"Bearer {billing.partner.key}"}
        )
    ).status_code == 404


async def test_wallet_entries_csv_has_the_ledger_with_filters(billing, http):
    billing.at(2026, 3, 20, 10, 0)
    gil = await billing.customer("Gil", funds="50")
    billing.at(2026, 3, 21, 10, 0)
    await billing.partner.mutate(
        CHARGE, {"walletId": gil.wallet_id, "amount": "2.50", "comment": "=HYPERLINK(evil)"}
    )
    await billing.conversation(gil, "c1", "MARKETING", "+4915112345678")
    headers = {"Authorization": f"Bearer {gil.client.key}"}
    url = f"/wallets/{gil.wallet_id}/entries.csv"

    everything = list(csv.DictReader(io.StringIO((await http.get(url, headers=headers)).text)))
    assert [row["kind"] for row in everything] == [
        "CONVERSATION_CHARGE",
        "INTEGRATION_CHARGE",
        "TOP_UP",
    ]  # newest first, as Wallet.entries
    assert [row["amount"] for row in everything] == ["-0.11", "-2.50", "50.00"]
    assert everything[0]["balance_after"] == "47.39"
    assert everything[1]["comment"] == "'=HYPERLINK(evil)"  # never run as a formula

    charges = await http.get(url, params={"kind": "INTEGRATION_CHARGE"}, headers=headers)
    assert [row["kind"] for row in csv.DictReader(io.StringIO(charges.text))] == [
        "INTEGRATION_CHARGE"
    ]
    window = await http.get(
        url,
        params={"since": "2026-03-21T00:00:00Z", "until": "2026-03-22T00:00:00Z"},
        headers=headers,
    )
    assert len(list(csv.DictReader(io.StringIO(window.text)))) == 2

    bad = await http.get(url, params={"kind": "NOPE"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "INVALID_ARGUMENT"
    naive = await http.get(url, params={"since": "2026-03-21T00:00:00"}, headers=headers)
    assert naive.status_code == 400
    # Any offset means the same instant: 11:00+02:00 is 09:00 UTC, before both of the 21st's
    # 10:00 UTC entries (SQLite compares stored text, so offsets are normalised first).
    shifted = await http.get(url, params={"since": "2026-03-21T11:00:00+02:00"}, headers=headers)
    assert len(list(csv.DictReader(io.StringIO(shifted.text)))) == 2
    later = await http.get(url, params={"since": "2026-03-21T12:30:00+02:00"}, headers=headers)
    assert list(csv.DictReader(io.StringIO(later.text))) == []
    other = await billing.customer("Hal")
    foreign = await http.get(
        f"/wallets/{other.wallet_id}/entries.csv", headers=headers
    )  # Gil's key, Hal's wallet
    assert foreign.status_code == 404


async def test_the_jobs_loop_invoices_the_month_before_once(billing):
    billing.at(2026, 3, 20, 10, 0)
    await billing.customer("Ida")
    await billing.customer("Jo")
    billing.at(2026, 3, 31, 23, 59)
    assert (await runner.run_once())["invoice-generation"] == {"period": "2026-02", "created": 0}

    billing.at(2026, 4, 1, 0, 30)  # within the grace hour: March is left alone
    assert (await runner.run_once())["invoice-generation"] == {"period": "2026-02", "created": 0}
    billing.at(2026, 4, 1, 1, 1)
    assert (await runner.run_once())["invoice-generation"] == {"period": "2026-03", "created": 2}
    assert await InvoiceRun.filter(period="2026-03").exists()
    billing.at(2026, 4, 1, 2, 0)
    assert (await runner.run_once())["invoice-generation"] == {"period": "2026-03", "created": 0}
    assert await Invoice.filter(period="2026-03").count() == 2


async def test_after_an_outage_the_jobs_loop_catches_up_on_missed_months(billing):
    billing.at(2026, 3, 20, 10, 0)
    await billing.customer("Kim")
    billing.at(2026, 6, 3, 12, 0)  # down since March: March, April and May were never run
    assert (await runner.run_once())["invoice-generation"] == {"period": "2026-05", "created": 3}
    assert sorted(await Invoice.all().values_list("period", flat=True)) == [
        "2026-03",
        "2026-04",
        "2026-05",
    ]


async def test_names_in_any_script_print_in_the_pdf(billing, http):
    billing.at(2026, 3, 20, 10, 0)
    customer = await billing.customer("Компания Ωmega")
    billing.at(2026, 4, 1, 2, 0)
    (draft,) = (
        await billing.partner.mutate(
            """mutation { generateInvoices(period: "2026-03") { invoices { id }
                 userErrors { code } } }"""
        )
    )["invoices"]
    response = await http.get(
        f"/invoices/{draft['id']}.pdf", headers={"Authorization": f"Bearer {billing.partner.key}"}
    )
    assert "To: Компания Ωmega" in pdf_text(response.content)
    assert customer.id
