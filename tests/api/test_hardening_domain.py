"""Issue 12, the domain's findings: SSRF through alert webhooks, free text, currencies
that are no currency, and secrets at rest.

Network rule of these tests: traffic goes to 127.0.0.1 only. Hostnames are
under ``.invalid`` (they never resolve for real); where a test needs one to
resolve, ``fake_dns`` answers for it, and an address outside 127.0.0.0/8 is
only ever an answer to be refused before any connection is made.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable

import asyncpg
import pytest
from cryptography.fernet import Fernet, InvalidToken
from tortoise import Tortoise

from backend import secret_box
from backend.db import init_db
from backend.domain.models import AlertDelivery, AlertWebhook, Partner
from backend.domain.unit_of_work import drain_after_commit
from backend.settings import get_settings
from tests.api.test_alert_webhooks import REGISTER, THRESHOLD, Receiver
from tests.factories import (
    CREATE_CUSTOMER,
    CREATE_PARTNER,
    EXTEND,
    PURCHASE_DAYS,
    TOP_UP,
    make_channel,
    make_tenant,
)
from tests.servers import ROOT, daybook, env_for, running_server
from tests.webhooks import meta

CONFIGURE_WHATSAPP = """mutation($p: ID!, $s: String!, $v: String!) {
  configureWhatsAppWebhook(partnerId: $p, appSecret: $s, verifyToken: $v) {
    partner { id } userErrors { field code } } }"""


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch):
    """Answers for names under ``.invalid``: ``answers[name]`` is a list, one answer per lookup
    (a list of addresses); a lookup past the end fails. Other names go to the real resolver."""
    real = socket.getaddrinfo
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if isinstance(host, str) and host.endswith(".invalid"):
            lookups.append(host)
            queue = answers.get(host) or []
            if not queue:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            result = []
            for address in queue.pop(0):
                if ":" in address:
                    result.append(
                        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
                    )
                else:
                    result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
            return result
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


# ---- 3. SSRF through registerAlertWebhook ------------------------------------


async def test_webhook_urls_to_loopback_private_or_reserved_addresses_are_refused(admin, receiver):
    assert not get_settings().allow_loopback_webhooks
    t = await make_tenant(admin)
    port = receiver.server.server_address[1]
    refused = [
        # Loopback, in every spelling the resolver reads: refused without the setting.
        receiver.url,
        f"http://localhost:{port}/x",
        f"http://0x7f000001:{port}/x",
        f"http://2130706433:{port}/x",
        f"http://0177.0.0.1:{port}/x",
        f"http://127.1:{port}/x",
        f"http://[::1]:{port}/x",
        f"http://[::ffff:127.0.0.1]:{port}/x",
        # Private, link-local (cloud metadata), shared, multicast, reserved, unspecified.
        "http://10.0.0.1/x",
        "http://172.16.0.1/x",
        "http://192.168.1.1/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/x",
        "http://224.0.0.1/x",
        "http://240.0.0.1/x",
        "http://0.0.0.0/x",
        "http://[fe80::1]/x",
        "http://[fc00::1]/x",
        "http://[::ffff:10.0.0.1]/x",
        "http://[ff02::1]/x",
        "http://[::]/x",
        # A name that does not resolve.
        "https://hooks.nowhere.invalid/x",
    ]
    for url in refused:
        payload = (await t.partner.data(REGISTER, {"p": t.partner_id, "u": url}))[
            "registerAlertWebhook"
        ]
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID_ARGUMENT"], url
        assert payload["secret"] is None
    assert await AlertWebhook.all().count() == 0
    assert receiver.requests == []


async def test_loopback_needs_the_setting_and_credentials_are_refused_even_then(
    admin, receiver, allow_loopback_webhooks
):
    t = await make_tenant(admin)
    port = receiver.server.server_address[1]
    for url in (
        f"http://user:pw@127.0.0.1:{port}/x",
        f"http://user@127.0.0.1:{port}/x",
        f"http://:pw@127.0.0.1:{port}/x",
        "http://10.0.0.1/x",  # the setting opens loopback, nothing else
    ):
        assert await t.partner.user_errors(REGISTER, {"p": t.partner_id, "u": url}) == [
            "INVALID_ARGUMENT"
        ], url
    await t.partner.mutate(REGISTER, {"p": t.partner_id, "u": f"http://0x7f000001:{port}/x"})
    await t.partner.mutate(THRESHOLD, {"p": t.partner_id, "d": 10})
    await drain_after_commit()
    assert len(receiver.requests) == 1


async def _alert_through(admin, fake_dns, host: str, port: int, answers: list[list[str]]):
    """A partner whose webhook names ``host`` (answered by ``answers``, one per lookup)
    raises an alert; returns the tenant, its delivery and the lookups made."""
    fake_answers, lookups = fake_dns
    fake_answers[host] = answers
    t = await make_tenant(admin)
    await t.partner.mutate(REGISTER, {"p": t.partner_id, "u": f"http://{host}:{port}/a?x=1"})
    await t.partner.mutate(THRESHOLD, {"p": t.partner_id, "d": 10})
    await drain_after_commit()
    return t, await AlertDelivery.get(), lookups


async def test_delivery_connects_to_the_address_it_checked(
    admin, receiver, allow_loopback_webhooks, fake_dns
):
    port = receiver.server.server_address[1]
    # One answer for the check at registration, one for the check at delivery; the
    # HTTP client asking again would get none (the connection is pinned to the check).
    _, delivery, lookups = await _alert_through(
        admin, fake_dns, "hooks.daybook.invalid", port, [["127.0.0.1"], ["127.0.0.1"]]
    )
    assert (delivery.status, delivery.last_error) == ("DELIVERED", None)
    assert lookups == ["hooks.daybook.invalid"] * 2
    headers, _ = receiver.requests[0]
    assert headers["Host"] == f"hooks.daybook.invalid:{port}"


async def test_dns_rebinding_to_a_private_address_is_refused_at_delivery_and_recorded(
    admin, receiver, allow_loopback_webhooks, fake_dns
):
    # Harmless at registration, private at delivery: refused before connecting. Any
    # further lookup fails, so nothing here can ever reach 10.0.0.1.
    t, delivery, lookups = await _alert_through(
        admin,
        fake_dns,
        "rebind.daybook.invalid",
        receiver.server.server_address[1],
        [["127.0.0.1"], ["10.0.0.1"]],
    )
    assert delivery.status == "FAILED" and delivery.attempts == 1
    assert delivery.last_error.startswith("refused:") and "private address" in delivery.last_error
    assert delivery.next_attempt_at is None
    assert receiver.requests == [] and len(lookups) == 2
    # Visible to the partner as a failed delivery.
    data = await t.partner.data(
        "query($p: ID!) { partner(id: $p) { alertWebhooks { edges { node {"
        " deliveries { edges { node { status attempts } } } } } } } }",
        {"p": t.partner_id},
    )
    node = data["partner"]["alertWebhooks"]["edges"][0]["node"]
    assert node["deliveries"]["edges"][0]["node"] == {"status": "FAILED", "attempts": 1}


async def test_a_name_resolving_to_loopback_and_public_is_refused(admin, fake_dns):
    answers, _ = fake_dns
    # 192.0.2.1 is TEST-NET-1 (documentation): never connected to, only checked.
    answers["mixed.daybook.invalid"] = [["192.0.2.1", "127.0.0.1"]]
    t = await make_tenant(admin)
    assert await t.partner.user_errors(
        REGISTER, {"p": t.partner_id, "u": "http://mixed.daybook.invalid/x"}
    ) == ["INVALID_ARGUMENT"]


async def test_redirects_are_not_followed(admin, allow_loopback_webhooks):
    first, second = Receiver(), Receiver()
    try:
        first.status, first.location = 307, second.url
        t = await make_tenant(admin)
        await t.partner.mutate(REGISTER, {"p": t.partner_id, "u": first.url})
        await t.partner.mutate(THRESHOLD, {"p": t.partner_id, "d": 10})
        await drain_after_commit()
        delivery = await AlertDelivery.get()
        assert (delivery.status, delivery.last_status_code) == ("PENDING", 307)
        assert len(first.requests) == 1 and second.requests == []
    finally:
        first.close()
        second.close()


# ---- 10. Free text -----------------------------------------------------------


class EscapedClient:
    """GraphQL with the body as ASCII JSON (``\\ud800`` escapes), as any client may send it:
    a lone surrogate cannot be written as UTF-8, only as a JSON escape."""

    def __init__(self, client) -> None:
        self.client = client

    async def data(self, query: str, variables: dict) -> dict:
        response = await self.client.http.post(
            "/graphql",
            content=json.dumps({"query": query, "variables": variables}),
            headers={
                "Authorization": f"Bearer {self.client.key}",
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def user_errors(self, query: str, variables: dict) -> list[str]:
        (payload,) = (await self.data(query, variables)).values()
        return [error["code"] for error in payload["userErrors"]]


async def test_free_text_refuses_nul_and_lone_surrogates_and_changes_nothing(admin):
    t = await make_tenant(admin, funds="10")
    await admin.mutate(PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 50, "comment": "stock"})
    channel = await make_channel(t.partner, t.customer_id, 7)
    partner, platform = EscapedClient(t.partner), EscapedClient(admin)
    for bad in ("pay\x00ment", "pay\ud800ment"):
        codes = await partner.user_errors(EXTEND, {"id": channel["id"], "days": 5, "comment": bad})
        assert codes == ["INVALID_COMMENT"]
        payload = (
            await partner.data(TOP_UP, {"walletId": t.wallet_id, "amount": "1", "comment": bad})
        )["topUpWallet"]
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["comment"], "INVALID_COMMENT")
        ]
        payload = (
            await partner.data(
                TOP_UP, {"walletId": t.wallet_id, "amount": "1", "comment": "ok", "key": bad}
            )
        )["topUpWallet"]
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID_ARGUMENT"]
        payload = (await partner.data(CREATE_CUSTOMER, {"partnerId": t.partner_id, "name": bad}))[
            "createCustomer"
        ]
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["name"], "INVALID_ARGUMENT")
        ]
        codes = await platform.user_errors(
            "mutation($k: String!) { revokeApiKey(keyPrefix: $k) { userErrors { code } } }",
            {"k": "dbk_" + bad},
        )
        assert codes == ["INVALID_ARGUMENT"]
        codes = await partner.user_errors(
            CONFIGURE_WHATSAPP, {"p": t.partner_id, "s": "s3cret-app-secret", "v": bad}
        )
        assert codes == ["INVALID_ARGUMENT"]
    state = await t.partner.data(
        "query($w: ID!) { wallet(id: $w) { balance { amount } } }", {"w": t.wallet_id}
    )
    assert state["wallet"]["balance"]["amount"] == "10.00"
    assert await Partner.filter(whatsapp_verify_token__isnull=False).count() == 0


async def test_free_text_drops_control_and_bidi_override_characters(admin):
    t = await make_tenant(admin)
    made = (
        await t.partner.mutate(
            CREATE_CUSTOMER,
            {"partnerId": t.partner_id, "name": "Acme\u202e\u2066 Ltd\x07\x1b[31m\u2069"},
        )
    )["customer"]
    assert made["name"] == "Acme Ltd[31m"
    entry = (
        await t.partner.mutate(
            TOP_UP,
            {"walletId": t.wallet_id, "amount": "1", "comment": "line one\nline\u202d two\x08"},
        )
    )["entry"]
    assert entry["comment"] == "line one\nline two"


# ---- 10. Currencies that are no currency ---------------------------------------


async def test_iso_codes_that_are_no_currency_are_refused(admin):
    for code in ("XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XBA", "XBB", "XBC", "XBD", "XDR",
                 "XSU", "XUA", "xts"):  # fmt: skip
        payload = (await admin.data(CREATE_PARTNER, {"name": "P", "currency": code, "price": "1"}))[
            "createPartner"
        ]
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID_CURRENCY"], code
    payload = (await admin.data(CREATE_PARTNER, {"name": "P", "currency": "XOF", "price": "1"}))[
        "createPartner"
    ]
    assert payload["userErrors"] == []  # the CFA franc is a currency


# ---- 10. Secrets at rest -----------------------------------------------------


async def _stored(table: str, column: str) -> list[str]:
    conn = Tortoise.get_connection("default")
    rows = await conn.execute_query_dict(f"SELECT {column} AS value FROM {table}")
    return [row["value"] for row in rows]


async def _whatsapp_post(http, partner_id: str, secret: str, payload: dict):
    raw = meta.encode(payload)
    return await http.post(
        f"/webhooks/whatsapp/{partner_id}",
        content=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(raw, secret)},
    )


async def test_stored_secrets_are_encrypted_and_the_alert_secret_is_shown_once(
    http, admin, receiver, allow_loopback_webhooks
):
    t = await make_tenant(admin)
    app_secret = "whatsapp-app-secret-0123456789abcdef"
    await t.partner.mutate(CONFIGURE_WHATSAPP, {"p": t.partner_id, "s": app_secret, "v": "tok"})
    (stored,) = await _stored("partners", "whatsapp_app_secret")
    assert app_secret not in stored and secret_box.open_sealed(stored) == app_secret
    # The signature check opens it: a signed POST is taken, a wrong one refused.
    body = meta.body(meta.status("wamid.1", "sent"))
    assert (await _whatsapp_post(http, t.partner_id, app_secret, body)).status_code == 200
    assert (await _whatsapp_post(http, t.partner_id, "not-the-secret", body)).status_code == 401

    registered = await t.partner.mutate(REGISTER, {"p": t.partner_id, "u": receiver.url})
    shown = registered["secret"]
    (sealed,) = await _stored("alert_webhooks", "secret")
    assert shown and shown not in sealed and secret_box.open_sealed(sealed) == shown
    # Deliveries are signed with the secret in clear.
    await t.partner.mutate(THRESHOLD, {"p": t.partner_id, "d": 10})
    await drain_after_commit()
    headers, raw = receiver.requests[0]
    assert headers["X-Daybook-Signature"] == meta.sign(raw, shown)
    # Never returned again: removal answers without it, and no query field has it.
    removed = (
        await t.partner.data(
            "mutation($h: ID!) { removeAlertWebhook(webhookId: $h) { secret userErrors { code } } }",
            {"h": registered["webhook"]["id"]},
        )
    )["removeAlertWebhook"]
    assert removed == {"secret": None, "userErrors": []}


@pytest.fixture
def secret_keys(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Switch DAYBOOK_SECRET_KEYS for this process and the CLI processes it starts."""

    def use(*keys: bytes) -> None:
        monkeypatch.setenv("DAYBOOK_SECRET_KEYS", ",".join(key.decode() for key in keys))
        get_settings.cache_clear()
        secret_box.reset()

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()
    secret_box.reset()


async def test_keys_rotate_old_keys_still_decrypt_and_rotate_secrets_reencrypts(
    db, http, admin, secret_keys
):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    secret_keys(old)
    t = await make_tenant(admin)
    app_secret = "rotating-app-secret-42"
    await t.partner.mutate(CONFIGURE_WHATSAPP, {"p": t.partner_id, "s": app_secret, "v": "tok"})
    (under_old,) = await _stored("partners", "whatsapp_app_secret")
    assert Fernet(old).decrypt(under_old.encode()).decode() == app_secret
    body = meta.body(meta.status("wamid.2", "sent"))

    # A new first key: what the old one sealed still opens.
    secret_keys(new, old)
    assert (await _whatsapp_post(http, t.partner_id, app_secret, body)).status_code == 200

    # The real command re-encrypts everything with the first key.
    done = daybook(db.url, "rotate-secrets")
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 1 stored secret(s)" in done.stdout
    (under_new,) = await _stored("partners", "whatsapp_app_secret")
    assert under_new != under_old
    assert Fernet(new).decrypt(under_new.encode()).decode() == app_secret
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(under_new.encode())

    # The old key can go now.
    secret_keys(new)
    assert (await _whatsapp_post(http, t.partner_id, app_secret, body)).status_code == 200
    # And without the key that sealed it, a secret cannot be opened: refused, not a 500.
    secret_keys(old)
    assert (await _whatsapp_post(http, t.partner_id, app_secret, body)).status_code == 401


def test_production_refuses_to_start_without_a_key(database):
    env = {"DAYBOOK_ENV": "production", "DAYBOOK_SECRET_KEYS": ""}
    with pytest.raises(RuntimeError, match="DAYBOOK_SECRET_KEYS is not set"):
        with running_server(database.url, env=env):
            pass
    refused = subprocess.run(
        [sys.executable, "-m", "backend.cli", "serve"],
        cwd=ROOT,
        env={**env_for(database.url), **env, "DAYBOOK_SECRET_KEYS": "not-a-key"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0 and "is not a Fernet key" in refused.stderr


def test_the_development_key_is_created_once_mode_0600_by_racing_processes(tmp_path):
    key_file = tmp_path / "var" / "secret.key"
    script = "from backend import secret_box; print(secret_box.box() and secret_box.seal('x'))"
    env = {
        **os.environ,
        "DAYBOOK_SECRET_KEY_FILE": str(key_file),
        "DAYBOOK_SECRET_KEYS": "",
        "DAYBOOK_ENV": "development",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    tokens = [process.communicate(timeout=60)[0].strip() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    key = key_file.read_bytes().strip()
    # Every process used the one key that was kept.
    assert {Fernet(key).decrypt(token.encode()) for token in tokens} == {b"x"}
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [path.name for path in key_file.parent.iterdir()] == ["secret.key"]


async def test_the_migration_encrypts_the_secrets_stored_in_clear(database, tmp_path):
    """0012 on a database holding secrets in clear (written before it): sealed afterwards."""
    from tortoise.migrations.api.migrate import migrate

    from backend.db import close_db, run_migrations, tortoise_config
    from tests.conftest import PG_ADMIN_URL

    admin = None
    if database.kind == "sqlite":
        url = f"sqlite://{tmp_path / 'before-0012.sqlite3'}"
    else:
        name = f"daybook_test_0012_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN_URL)
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    settings = database.settings(url)
    try:
        try:
            await migrate(config=tortoise_config(settings), target="models.0011_recharge_attempts")
        finally:
            await close_db()
        rows = [
            "INSERT INTO partners (id, name, currency_code, day_price_micros,"
            " markup_percent_micros, trial_eligible, day_balance, created_at,"
            " whatsapp_app_secret) VALUES (1, 'P', 'USD', 0, 0, FALSE, 0,"
            " '2026-01-01 00:00:00+00:00', 'clear-app-secret-1')",
            "INSERT INTO alert_webhooks (id, partner_id, url, secret, created_at)"
            " VALUES (1, 1, 'https://hooks.example.invalid/', 'clear-hook-secret-1',"
            " '2026-01-01 00:00:00+00:00')",
        ]
        if admin is None:
            with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
                for sql in rows:
                    conn.execute(sql)
        else:
            conn = await asyncpg.connect(url)
            for sql in rows:
                await conn.execute(sql)
            await conn.close()
        await run_migrations(settings)
        await init_db(settings)
        try:
            partners = await _stored("partners", "whatsapp_app_secret")
            hooks = await _stored("alert_webhooks", "secret")
        finally:
            await close_db()
        assert [secret_box.open_sealed(value) for value in partners] == ["clear-app-secret-1"]
        assert [secret_box.open_sealed(value) for value in hooks] == ["clear-hook-secret-1"]
        assert "clear" not in partners[0] + hooks[0]
    finally:
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
