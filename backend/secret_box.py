"""Secrets at rest: encrypted with Fernet (``cryptography``), keys rotated with MultiFernet.

``DAYBOOK_SECRET_KEYS`` holds Fernet keys, comma-separated: the first encrypts,
every one decrypts, so a new key goes first and the old ones stay until
``daybook rotate-secrets`` has re-encrypted every stored secret with it.

Outside production, with no key set, a development key is created once in
``var/secret.key`` (mode 0600, written whole to a temporary file and linked
into place, so two processes starting together end up with the same key).
In production a missing key is an error: :class:`SecretKeyMissing`.

Every stored secret (a partner's WhatsApp app secret, an alert webhook's
signing secret, the payment provider keys to come) goes through
:func:`seal` on the way in and :func:`open_sealed` on the way out.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import dialect_sql
from backend.settings import Settings, get_settings

# Longest sealed form of a secret of MAX_SECRET_CHARS characters (4 bytes each in UTF-8).
MAX_SECRET_CHARS = 200
SEALED_MAX_LENGTH = 1500


# Every column that holds a sealed secret: rotation and the migration that sealed them walk these.
STORED_SECRETS: tuple[tuple[str, str], ...] = (
    ("partners", "whatsapp_app_secret"),
    ("alert_webhooks", "secret"),
    ("payment_accounts", "secret_key"),
    ("payment_accounts", "webhook_secret"),
)


class SecretKeyMissing(RuntimeError):
    """No usable key: production without DAYBOOK_SECRET_KEYS, or a malformed key."""


class SecretUnreadable(RuntimeError):
    """A stored secret that none of the configured keys decrypts."""


_lock = threading.Lock()
_box: MultiFernet | None = None


def _development_key(path: Path) -> bytes:
    """The key in ``path``, created there first if missing (atomically, mode 0600)."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            # link() fails when the file exists: whoever links first wins, the others read it.
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_bytes().strip()


def load_keys(settings: Settings) -> list[bytes]:
    """The configured keys, newest first; raises SecretKeyMissing with what to do."""
    if settings.secret_keys:
        keys = [key.strip().encode() for key in settings.secret_keys if key.strip()]
    elif settings.production:
        raise SecretKeyMissing(
            "DAYBOOK_SECRET_KEYS is not set: production needs a Fernet key to encrypt stored "
            "secrets. Make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        )
    else:
        keys = [_development_key(settings.secret_key_file)]
    for index, key in enumerate(keys):
        try:
            Fernet(key)
        except ValueError as error:
            raise SecretKeyMissing(
                f"Key {index + 1} of DAYBOOK_SECRET_KEYS is not a Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from error
    if not keys:
        raise SecretKeyMissing("DAYBOOK_SECRET_KEYS holds no key.")
    return keys


def box(settings: Settings | None = None) -> MultiFernet:
    """The process's MultiFernet (built once from the settings)."""
    global _box
    if settings is not None:
        return MultiFernet([Fernet(key) for key in load_keys(settings)])
    if _box is None:
        with _lock:
            if _box is None:
                _box = MultiFernet([Fernet(key) for key in load_keys(get_settings())])
    return _box


def reset() -> None:
    """Forget the keys read so far (after the settings changed: tests, key rotation)."""
    global _box
    with _lock:
        _box = None


def seal(secret: str, *, using: MultiFernet | None = None) -> str:
    return (using or box()).encrypt(secret.encode()).decode("ascii")


def open_sealed(sealed: str, *, using: MultiFernet | None = None) -> str:
    try:
        return (using or box()).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as error:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with the configured keys"
        ) from error


def reseal(sealed: str, *, using: MultiFernet | None = None) -> str:
    """The same secret encrypted with the first key (MultiFernet.rotate)."""
    try:
        return (using or box()).rotate(sealed.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError) as error:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with the configured keys"
        ) from error


async def transform_stored(
    conn: BaseDBAsyncClient,
    change: Callable[[str], str],
    columns: tuple[tuple[str, str], ...] = STORED_SECRETS,
) -> int:
    """Rewrite every stored secret as ``change(value)`` (in the caller's transaction).

    A migration names the columns that existed when it was written."""
    changed = 0
    for table, column in columns:
        rows = await conn.execute_query_dict(
            f"SELECT id, {column} AS value FROM {table} WHERE {column} IS NOT NULL ORDER BY id"
        )
        for row in rows:
            await conn.execute_query(
                dialect_sql(conn, f"UPDATE {table} SET {column} = $1 WHERE id = $2"),
                [change(row["value"]), row["id"]],
            )
            changed += 1
    return changed


async def rotate_stored(conn: BaseDBAsyncClient, *, using: MultiFernet | None = None) -> int:
    """``daybook rotate-secrets``: every stored secret re-encrypted with the first key."""
    return await transform_stored(conn, lambda sealed: reseal(sealed, using=using))
