"""Password hashing: HMAC-SHA256 keyed by a server secret outside the database, per-agent salt."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from smsmenu.core.errors import InvalidPassword

_SIX_DIGITS = re.compile(r"[0-9]{6}")


def well_formed(password: str) -> bool:
    """R-2: exactly six ASCII digits."""
    return isinstance(password, str) and _SIX_DIGITS.fullmatch(password) is not None


def check_format(password: str) -> None:
    """R-2: exactly six ASCII digits, else InvalidPassword."""
    if not well_formed(password):
        raise InvalidPassword()


def new_salt() -> bytes:
    return secrets.token_bytes(16)


def digest(secret: bytes, salt: bytes, purpose: str, password: str) -> bytes:
    """The stored form of a password; ``purpose`` (tx / mgmt) keeps the two apart."""
    message = salt + purpose.encode() + b"\x00" + password.encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def matches(secret: bytes, salt: bytes, purpose: str, password: str, stored: bytes) -> bool:
    return hmac.compare_digest(digest(secret, salt, purpose, password), stored)


_NOBODY_SALT = b"\x00" * 16
_NOBODY_HASH = b"\x00" * 32


def decoy(secret: bytes, purpose: str, password: str) -> bool:
    """The work of checking a password, for a login naming no agent: timing tells nothing."""
    return matches(secret, _NOBODY_SALT, purpose, password, _NOBODY_HASH)


def load_secret(path: str | Path, env_value: str | None = None) -> bytes:
    """The HMAC key: ``SMSMENU_SECRET`` (hex) if set, else the file, created (0600) if missing."""
    if env_value:
        return bytes.fromhex(env_value)
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return bytes.fromhex(file.read_text().strip())
