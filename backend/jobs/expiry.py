"""Channel expiry: mark lapsed channels EXPIRED and warn before they lapse.

- CHANNEL_EXPIRING: a live channel with 3 days or fewer left, once per
  channel and expiry date (extending it moves the date, so it may warn again).
- CHANNEL_EXPIRED: a live channel past ``active_until``, marked EXPIRED.
Both are resolved when the channel is extended or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.db import row_of
from backend.domain import alerts, unit_of_work
from backend.domain.channels import EXPIRING_WITHIN, LIVE
from backend.domain.clock import clock
from backend.domain.models import AlertKind, Channel, ChannelStatus
from backend.domain.unit_of_work import transaction
from backend.events import changes

BATCH = 500


@dataclass
class ExpiryReport:
    expired: int = 0
    warned: int = 0


async def run_expiry() -> ExpiryReport:
    now = clock.now()
    report = ExpiryReport()
    while True:
        lapsed = await Channel.filter(status__in=list(LIVE), active_until__lte=now).limit(BATCH)
        if not lapsed:
            break
        async with transaction() as conn:
            for channel in lapsed:
                # Conditional: an extension that committed meanwhile wins.
                changed = (
                    await Channel.filter(
                        id=channel.id, status__in=list(LIVE), active_until__lte=now
                    )
                    .using_db(conn)
                    .update(status=ChannelStatus.EXPIRED)
                )
                if not changed:
                    continue
                report.expired += 1
                channel.status = ChannelStatus.EXPIRED
                unit_of_work.record(changes.channel_changed(channel=row_of(channel)))
                await alerts.raise_alert(
                    conn,
                    kind=AlertKind.CHANNEL_EXPIRED,
                    message=f"Channel {channel.name} ({channel.phone_number}) has expired.",
                    dedupe_key=alerts.channel_key(
                        AlertKind.CHANNEL_EXPIRED, channel.id, channel.active_until
                    ),
                    partner_id=channel.partner_id,
                    customer_id=channel.customer_id,
                    channel_id=channel.id,
                )
        if len(lapsed) < BATCH:
            break

    expiring = await Channel.filter(
        status__in=list(LIVE), active_until__gt=now, active_until__lte=now + EXPIRING_WITHIN
    )
    async with transaction() as conn:
        for channel in expiring:
            left = channel.active_until - now
            inserted = await alerts.raise_alert(
                conn,
                kind=AlertKind.CHANNEL_EXPIRING,
                message=(
                    f"Channel {channel.name} ({channel.phone_number}) expires "
                    f"{channel.active_until:%Y-%m-%d %H:%M} UTC ({left.days} days left)."
                ),
                dedupe_key=alerts.channel_key(
                    AlertKind.CHANNEL_EXPIRING, channel.id, channel.active_until
                ),
                partner_id=channel.partner_id,
                customer_id=channel.customer_id,
                channel_id=channel.id,
            )
            report.warned += inserted is not None
    return report
