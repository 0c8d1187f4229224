"""Alert webhooks: every alert POSTed as signed JSON to the partner's URLs, retried for 24 hours.

A delivery row is written in the alert's own transaction, so a committed
alert is never forgotten; the POST happens after commit and, when it fails,
again from the jobs loop with exponential backoff (30 s, 1 min, 2 min, ...)
until it succeeds or 24 hours have passed. The receiver checks
``X-Daybook-Signature: sha256=<HMAC-SHA256 of the body with the webhook's secret>``.

The target is checked at registration and again at every delivery (no SSRF):
the host is resolved once with the system resolver, every address it resolves
to must be public (not loopback, private, link-local, multicast, reserved or
unspecified, IPv4-mapped IPv6 included), and the POST connects to that checked
address itself, with the URL's host in the Host header and as the TLS server
name, so a DNS answer that changes in between (rebinding) is never followed.
URLs with credentials are refused; redirects are not followed. Loopback is
allowed only with ``DAYBOOK_ALLOW_LOOPBACK_WEBHOOKS=1`` (development, tests).
The secret is stored encrypted (``backend.secret_box``) and shown once.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import db_datetime, dialect_sql
from backend.domain import access, unit_of_work
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import InvalidArgument, NotFound
from backend.domain.models import Alert, AlertDelivery, AlertWebhook, DeliveryStatus, Role
from backend.domain.unit_of_work import transaction
from backend.secret_box import open_sealed, seal
from backend.settings import get_settings

log = logging.getLogger("daybook.alert_webhooks")

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
TIMEOUT_SECONDS = 10
RESOLVE_TIMEOUT_SECONDS = 5
MAX_URL_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(Exception):
    """A webhook URL Daybook will not connect to; the message says why."""


@dataclass(frozen=True)
class Target:
    """Where a POST goes: the checked address, and the URL's own host for Host and TLS."""

    url: str  # the URL with the checked address in place of the host
    host_header: str
    server_name: str
    address: IPAddress


def _refusal(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why an address may not be connected to, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    for kind, flag in (
        ("an unspecified address", address.is_unspecified),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
        ("an address that is not public", not address.is_global),
    ):
        if flag:
            return kind
    return None


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host`` (IP literals in any spelling)."""
    loop = asyncio.get_running_loop()
    # The C library's resolver (the one every other program uses), in a thread: it
    # reads every spelling of an address (0x7f000001, 2130706433, 0177.0.0.1) as it does.
    lookup = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = await asyncio.wait_for(loop.run_in_executor(None, lookup), RESOLVE_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, UnicodeError) as error:
        raise UnsafeTarget(f"the host {host!r} does not resolve") from error
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # An IPv6 sockaddr may carry a scope ("fe80::1%eth0"): the address is before the %.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeTarget(f"the host {host!r} does not resolve")
    return addresses


def _parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path and query) of an acceptable URL, else UnsafeTarget."""
    clean = url.strip()
    printable = clean.isascii() and clean.isprintable() and " " not in clean
    try:
        parts = urlsplit(clean)
        port = parts.port
    except ValueError as error:
        raise UnsafeTarget("the URL must be an http:// or https:// address") from error
    if (
        not printable
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or not parts.hostname
        or len(clean) > MAX_URL_LENGTH
    ):
        raise UnsafeTarget("the URL must be an http:// or https:// address")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UnsafeTarget("the URL must not carry credentials (user:password@)")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


async def check_target(url: str) -> Target:
    """Resolve the URL's host once and check every address; the first one is connected to."""
    scheme, host, port, path = _parse(url)
    allow_loopback = get_settings().allow_loopback_webhooks
    addresses = await _resolve(host, port)
    for address in addresses:
        why = _refusal(address, allow_loopback=allow_loopback)
        if why is not None:
            raise UnsafeTarget(f"the host {host!r} resolves to {why} ({address})")
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    default_port = 443 if scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    if ":" in host:  # an IPv6 literal in the URL
        host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
    return Target(
        url=f"{scheme}://{literal}:{port}{path}",
        host_header=host_header,
        server_name=host,
        address=address,
    )


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Registered:
    """A webhook just registered, and its signing secret: the one moment it is shown in clear."""

    webhook: AlertWebhook
    secret: str


async def register(principal: Principal, *, partner_id: int, url: str) -> Registered:
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    partner = await access.get_partner(principal, partner_id)
    clean = (url or "").strip()
    try:
        await check_target(clean)
    except UnsafeTarget as refused:
        raise InvalidArgument(f"Refused webhook URL: {refused}.", field="url") from refused
    secret = secrets.token_urlsafe(32)
    hook = await AlertWebhook.create(
        partner_id=partner.id, url=clean, secret=seal(secret), created_at=clock.now()
    )
    # Shown once, beside the row (which keeps it sealed and is never given the clear text).
    return Registered(webhook=hook, secret=secret)


async def remove(principal: Principal, *, webhook_id: int) -> AlertWebhook:
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    hook = await AlertWebhook.get_or_none(id=webhook_id)
    if (
        hook is None
        or hook.removed_at is not None
        or not access.can_see_partner(principal, hook.partner_id)
    ):
        raise NotFound("No such alert webhook.", field="webhook_id")
    await AlertWebhook.filter(id=hook.id).update(removed_at=clock.now())
    return await AlertWebhook.get(id=hook.id)


async def enqueue(conn: BaseDBAsyncClient, *, alert_id: int, partner_id: int | None) -> None:
    """Inside the alert's transaction: one delivery per live webhook, sent after commit."""
    if partner_id is None:
        return
    now = clock.now()
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "INSERT INTO alert_deliveries (webhook_id, alert_id, status, attempts, next_attempt_at,"
            " created_at) SELECT id, $1, 'PENDING', 0, $2, $2 FROM alert_webhooks"
            " WHERE partner_id = $3 AND removed_at IS NULL RETURNING id",
        ),
        [alert_id, db_datetime(conn, now), partner_id],
    )
    for row in rows:
        delivery_id = row["id"]
        unit_of_work.after_commit(lambda delivery_id=delivery_id: deliver(delivery_id))


def _body(alert: Alert) -> bytes:
    def as_id(value: int | None) -> str | None:
        return None if value is None else str(value)

    return json.dumps(
        {
            "id": str(alert.id),
            "kind": alert.kind,
            "message": alert.message,
            "partnerId": as_id(alert.partner_id),
            "customerId": as_id(alert.customer_id),
            "walletId": as_id(alert.wallet_id),
            "channelId": as_id(alert.channel_id),
            "createdAt": alert.created_at.isoformat(),
            "resolvedAt": alert.resolved_at.isoformat() if alert.resolved_at else None,
        }
    ).encode()


CLAIM = timedelta(minutes=5)


async def deliver(delivery_id: int) -> DeliveryStatus | None:
    """One attempt; the outcome is recorded on the delivery. None: someone else has it.

    The attempt first claims the row (pushing its retry time past the attempt),
    so the after-commit task and a jobs pass never POST the same alert twice.
    """
    now = clock.now()
    claimed = await AlertDelivery.filter(
        id=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + CLAIM)
    if not claimed:
        return None
    delivery = await AlertDelivery.get(id=delivery_id).select_related("webhook", "alert")
    body = _body(delivery.alert)
    status_code, error, refused = None, None, False
    try:
        target = await check_target(delivery.webhook.url)
    except UnsafeTarget as unsafe:
        # Checked again at every delivery: a host that now resolves somewhere
        # forbidden is never connected to, and not retried.
        error, refused = f"refused: {unsafe}"[:500], True
    if not refused:
        try:
            async with httpx.AsyncClient(
                timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
            ) as client:
                response = await client.post(
                    target.url,
                    content=body,
                    headers={
                        "Host": target.host_header,
                        "Content-Type": "application/json",
                        "X-Daybook-Signature": signature(
                            body, open_sealed(delivery.webhook.secret)
                        ),
                        "X-Daybook-Delivery": str(delivery.id),
                    },
                    # TLS checks the certificate against the URL's host, not the address.
                    extensions={"sni_hostname": target.server_name},
                )
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except Exception as failure:  # any failure to POST is a failed attempt, never a crash
            error = f"{type(failure).__name__}: {failure}"[:500]
    now = clock.now()
    attempts = delivery.attempts + 1
    async with transaction() as conn:
        if error is None:
            await (
                AlertDelivery.filter(id=delivery.id)
                .using_db(conn)
                .update(
                    status=DeliveryStatus.DELIVERED,
                    attempts=attempts,
                    last_status_code=status_code,
                    last_error=None,
                    delivered_at=now,
                    next_attempt_at=None,
                )
            )
            return DeliveryStatus.DELIVERED
        retry_at = now + FIRST_RETRY * 2 ** (attempts - 1)
        gave_up = refused or retry_at - delivery.created_at > GIVE_UP_AFTER
        await (
            AlertDelivery.filter(id=delivery.id)
            .using_db(conn)
            .update(
                status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
                attempts=attempts,
                last_status_code=status_code,
                last_error=error,
                next_attempt_at=None if gave_up else retry_at,
            )
        )
    return DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING


async def retry_due() -> int:
    """Jobs loop: attempt every delivery whose retry time has come."""
    due = await AlertDelivery.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=clock.now()
    ).values_list("id", flat=True)
    for delivery_id in due:
        try:
            await deliver(delivery_id)
        except Exception:  # one bad row must not stop the others
            log.exception("alert delivery %s failed", delivery_id)
    return len(due)
