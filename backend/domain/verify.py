"""Ledger invariants, checked against the database (``daybook verify``, and every concurrency test).

Each check is one SQL query that returns the rows in breach, so it runs the
same on SQLite and PostgreSQL and scales to large ledgers.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.db import connection

CHECKS: dict[str, str] = {
    "wallet balance != sum of its entries": """
        SELECT w.id AS id, w.balance_micros AS stored, COALESCE(SUM(e.amount_micros), 0) AS computed
        FROM wallets w LEFT JOIN ledger_entries e ON e.wallet_id = w.id
        GROUP BY w.id, w.balance_micros
        HAVING w.balance_micros <> COALESCE(SUM(e.amount_micros), 0)
    """,
    "ledger entry balance_after != running sum": """
        SELECT id, balance_after_micros AS stored, running AS computed FROM (
            SELECT id, balance_after_micros,
                   SUM(amount_micros) OVER (PARTITION BY wallet_id ORDER BY id) AS running
            FROM ledger_entries
        ) t WHERE balance_after_micros <> running
    """,
    "partner day balance != sum of its day entries": """
        SELECT p.id AS id, p.day_balance AS stored, COALESCE(SUM(e.days), 0) AS computed
        FROM partners p LEFT JOIN day_entries e ON e.partner_id = p.id
        GROUP BY p.id, p.day_balance
        HAVING p.day_balance <> COALESCE(SUM(e.days), 0)
    """,
    "day entry day_balance_after != running sum": """
        SELECT id, day_balance_after AS stored, running AS computed FROM (
            SELECT id, day_balance_after,
                   SUM(days) OVER (PARTITION BY partner_id ORDER BY id) AS running
            FROM day_entries
        ) t WHERE day_balance_after <> running
    """,
    "paid lot days != days the partner's allocations took": """
        SELECT p.id AS id,
               COALESCE((SELECT SUM(days) FROM channel_lots l
                         WHERE l.partner_id = p.id AND l.kind = 'PAID'), 0) AS stored,
               -COALESCE((SELECT SUM(days) FROM day_entries e WHERE e.partner_id = p.id
                          AND e.kind IN ('ALLOCATION', 'TRIAL_FUNDED')), 0) AS computed
        FROM partners p
    """,
    "days refunded from lots != the partner's REFUND entries": """
        SELECT p.id AS id,
               COALESCE((SELECT SUM(refunded_days) FROM channel_lots l
                         WHERE l.partner_id = p.id), 0) AS stored,
               COALESCE((SELECT SUM(days) FROM day_entries e WHERE e.partner_id = p.id
                         AND e.kind = 'REFUND'), 0) AS computed
        FROM partners p
    """,
    "wallet held != what its active holds still reserve": """
        SELECT w.id AS id, w.held_micros AS stored,
               COALESCE((SELECT SUM(remaining_micros) FROM holds h
                         WHERE h.wallet_id = w.id AND h.status = 'ACTIVE'), 0) AS computed
        FROM wallets w
    """,
    "hold remaining != its pending shares": """
        SELECT h.id AS id, h.remaining_micros AS stored,
               COALESCE((SELECT SUM(price_micros) FROM hold_recipients r
                         WHERE r.hold_id = h.id AND r.state = 'PENDING'), 0) AS computed
        FROM holds h WHERE h.status = 'ACTIVE'
    """,
    "invoice subtotal != its due (not prepaid) lines": """
        SELECT i.id AS id, i.subtotal_micros AS stored,
               COALESCE((SELECT SUM(amount_micros) FROM invoice_lines l
                         WHERE l.invoice_id = i.id AND NOT l.prepaid), 0) AS computed
        FROM invoices i
    """,
    "partner invoice counter != its numbered invoices": """
        SELECT c.partner_id AS id, c.last_sequence AS stored,
               (SELECT COUNT(*) FROM invoices i WHERE i.partner_id = c.partner_id
                AND i.sequence IS NOT NULL) AS computed
        FROM invoice_counters c
    """,
    "invoice numbers with a gap (highest sequence != count)": """
        SELECT partner_id AS id, MAX(sequence) AS stored, COUNT(sequence) AS computed
        FROM invoices WHERE sequence IS NOT NULL GROUP BY partner_id
    """,
    "invoice paid from the wallet != minus its payment entry": """
        SELECT i.id AS id, i.total_micros AS stored,
               CASE WHEN e.kind = 'INVOICE_PAYMENT' AND i.status = 'PAID'
                    THEN -e.amount_micros ELSE -1 END AS computed
        FROM invoices i JOIN ledger_entries e ON e.id = i.payment_entry_id
    """,
    "succeeded recharge attempt != its AUTO_RECHARGE entry": """
        SELECT a.id AS id, a.amount_micros AS stored,
               CASE WHEN e.kind = 'AUTO_RECHARGE' AND e.wallet_id = a.wallet_id
                    THEN e.amount_micros ELSE -1 END AS computed
        FROM recharge_attempts a LEFT JOIN ledger_entries e ON e.id = a.ledger_entry_id
        WHERE a.status = 'SUCCEEDED'
    """,
    "negative day balance": "SELECT id, day_balance AS stored, 0 AS computed FROM partners WHERE day_balance < 0",
    "negative holds": "SELECT id, held_micros AS stored, 0 AS computed FROM wallets WHERE held_micros < 0",
}


@dataclass(frozen=True)
class Breach:
    check: str
    row_id: int
    stored: int
    computed: int

    def __str__(self) -> str:
        return f"{self.check}: id={self.row_id} stored={self.stored} computed={self.computed}"


async def find_breaches() -> list[Breach]:
    conn = connection()
    breaches: list[Breach] = []
    for name, sql in CHECKS.items():
        rows = await conn.execute_query_dict(sql)
        breaches.extend(
            Breach(name, int(row["id"]), int(row["stored"]), int(row["computed"]))
            for row in rows
            if int(row["stored"]) != int(row["computed"])
        )
    return breaches
