"""CSV exports, behind the same bearer key and tenant rules as GraphQL."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from backend.domain import access, partner_days
from backend.domain.errors import DomainError, InvalidArgument
from backend.domain.models import DayEntry, DayEntryKind

CHUNK = 1000
DAY_ENTRY_COLUMNS = [
    "id",
    "created_at",
    "kind",
    "days",
    "day_balance_after",
    "channel_id",
    "comment",
]


def _error(error: DomainError) -> JSONResponse:
    status = {"NOT_FOUND": 404, "FORBIDDEN": 403}.get(error.code, 400)
    return JSONResponse({"errors": [{"message": error.message, "code": error.code}]}, status)


def _datetime(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidArgument(f"{field} must be an ISO 8601 date-time.", field=field) from error
    if parsed.tzinfo is None:
        raise InvalidArgument(
            f"{field} needs a UTC offset, e.g. 2026-03-01T00:00:00Z.", field=field
        )
    return parsed


async def day_entries_csv(request: Request) -> Response:
    """``GET /partners/{id}/day-entries.csv?channelId=&kind=&since=&until=``, newest first."""
    principal = request.scope["daybook.principal"]
    params = request.query_params
    try:
        partner_id = access.parse_id(request.path_params["partner_id"], field="partnerId")
        kind = params.get("kind")
        if kind is not None and kind not in DayEntryKind.__members__:
            raise InvalidArgument(f"kind must be one of {', '.join(DayEntryKind)}.", field="kind")
        query = partner_days.history_query(
            principal,
            partner_id,
            channel_id=params.get("channelId"),
            kind=DayEntryKind(kind) if kind else None,
            since=_datetime(params.get("since"), "since"),
            until=_datetime(params.get("until"), "until"),
        )
    except DomainError as error:
        return _error(error)

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(DAY_ENTRY_COLUMNS)
        last_id: int | None = None
        while True:
            page = query.order_by("-id").limit(CHUNK)
            if last_id is not None:
                page = page.filter(id__lt=last_id)
            entries: list[DayEntry] = await page
            for entry in entries:
                writer.writerow(
                    [
                        entry.id,
                        entry.created_at.isoformat(),
                        entry.kind,
                        entry.days,
                        entry.day_balance_after,
                        entry.channel_id or "",
                        entry.comment,
                    ]
                )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(entries) < CHUNK:
                return
            last_id = entries[-1].id

    filename = f"partner-{partner_id}-day-entries.csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
