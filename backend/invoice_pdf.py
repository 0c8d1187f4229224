"""The invoice as a PDF document, laid out with ReportLab's platypus.

Pure rendering: it takes the invoice, its lines and the names it shows, and
returns bytes. Who may fetch it is decided by ``backend.exports``.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from backend.domain.invoices import display_number
from backend.domain.models import Invoice, InvoiceLine, InvoiceStatus
from backend.domain.money import format_micros

log = logging.getLogger("daybook.pdf")

# Customers' and partners' names come in every script: the PDF needs a Unicode
# TrueType font (the built-in Helvetica has Latin-1 only and prints boxes).
# DejaVu Sans covers Latin, Greek, Cyrillic, Arabic and Hebrew; it comes with
# Debian's fonts-dejavu-core. DAYBOOK_PDF_FONT / DAYBOOK_PDF_FONT_BOLD point
# at another TTF (a Noto CJK font, say) where more is needed.
_FONT_CANDIDATES = (
    (
        os.environ.get("DAYBOOK_PDF_FONT", ""),
        os.environ.get("DAYBOOK_PDF_FONT_BOLD", ""),
    ),
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
)


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    """The regular and bold font names to use, registered with ReportLab once."""
    for regular, bold in _FONT_CANDIDATES:
        if regular and Path(regular).is_file():
            pdfmetrics.registerFont(TTFont("DaybookSans", regular))
            bold_path = bold if bold and Path(bold).is_file() else regular
            pdfmetrics.registerFont(TTFont("DaybookSans-Bold", bold_path))
            return "DaybookSans", "DaybookSans-Bold"
    log.warning("no Unicode TTF font found; invoice PDFs fall back to Helvetica (Latin-1 only)")
    return "Helvetica", "Helvetica-Bold"


@dataclass(frozen=True)
class InvoiceDocument:
    invoice: Invoice
    lines: list[InvoiceLine]
    partner_name: str
    customer_name: str


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"


def _money(micros: int, currency: str) -> str:
    return f"{format_micros(micros)} {currency}"


def _percent(micros: int) -> str:
    return format_micros(micros).rstrip("0").rstrip(".") + "%"


def _styles():
    regular, bold = fonts()
    styles = getSampleStyleSheet()
    for name in ("Normal", "BodyText", "Title", "Heading2"):
        styles[name].fontName = bold if name in ("Title", "Heading2") else regular
    return styles


def _table_style() -> TableStyle:
    regular, bold = fonts()
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), regular),
            ("FONTNAME", (0, 0), (-1, 0), bold),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
        ]
    )


def _lines_table(lines: list[InvoiceLine], currency: str, styles) -> Table:
    rows: list[list] = [["Description", "Quantity", "Unit price", "Amount"]]
    for line in lines:
        rows.append(
            [
                Paragraph(escape(line.description), styles["BodyText"]),
                str(line.quantity),
                _money(line.unit_price_micros, currency),
                _money(line.amount_micros, currency),
            ]
        )
    table = Table(rows, colWidths=[85 * mm, 20 * mm, 35 * mm, 35 * mm], repeatRows=1)
    table.setStyle(_table_style())
    return table


def render(document: InvoiceDocument) -> bytes:
    invoice = document.invoice
    currency = invoice.currency_code
    number = display_number(invoice)
    styles = _styles()
    regular, bold = fonts()
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Invoice {number}",
        author=document.partner_name,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    status = invoice.status.value
    if invoice.status == InvoiceStatus.DRAFT:
        status += " (not issued: no number yet)"
    story: list = [
        Paragraph(f"Invoice {escape(number)}", styles["Title"]),
        Paragraph(f"From: {escape(document.partner_name)}", styles["Normal"]),
        Paragraph(f"To: {escape(document.customer_name)}", styles["Normal"]),
        Spacer(1, 4 * mm),
        Table(
            [
                ["Period", invoice.period],
                ["Status", status],
                ["Issued", _date(invoice.issued_at)],
                ["Due date", _date(invoice.due_at)],
                ["Paid", _date(invoice.paid_at)],
            ],
            colWidths=[35 * mm, 80 * mm],
            style=TableStyle(
                [("FONTNAME", (0, 0), (-1, -1), regular), ("FONTSIZE", (0, 0), (-1, -1), 9)]
            ),
            hAlign="LEFT",
        ),
        Spacer(1, 6 * mm),
        Paragraph("Due", styles["Heading2"]),
    ]
    due = [line for line in document.lines if not line.prepaid]
    prepaid = [line for line in document.lines if line.prepaid]
    if due:
        story.append(_lines_table(due, currency, styles))
    else:
        story.append(Paragraph("Nothing is due for this period.", styles["Normal"]))
    story += [
        Spacer(1, 4 * mm),
        Table(
            [
                ["Subtotal", _money(invoice.subtotal_micros, currency)],
                [
                    f"Tax ({_percent(invoice.tax_rate_percent_micros)})",
                    _money(invoice.tax_micros, currency),
                ],
                ["Total", _money(invoice.total_micros, currency)],
            ],
            colWidths=[40 * mm, 40 * mm],
            style=TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), regular),
                    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                    ("FONTNAME", (0, 2), (-1, 2), bold),
                    ("LINEABOVE", (0, 2), (-1, 2), 0.5, colors.grey),
                ]
            ),
            hAlign="RIGHT",
        ),
    ]
    if prepaid:
        settled = sum(line.amount_micros for line in prepaid)
        story += [
            Spacer(1, 8 * mm),
            Paragraph("Prepaid statement", styles["Heading2"]),
            Paragraph(
                "Usage already paid from the wallet as it happened; shown for your records, "
                f"not part of the total ({_money(settled, currency)} in all).",
                styles["Normal"],
            ),
            Spacer(1, 2 * mm),
            _lines_table(prepaid, currency, styles),
        ]
    pdf.build(story)
    return buffer.getvalue()
