"""Transport tokens: constant-time checks, Bearer parsing, and demo mode's tokens kept in var/."""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import string
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from aiohttp import web

from smsmenu.core.settings import Settings

DEMO_FILE = "demo-tokens.json"
"""Demo mode's generated secrets, next to ``[ledger] secret_file`` (``var/``), mode 0600."""
MIN_CHARS = 16
"""Production refuses shorter tokens."""
SMPP_PASSWORD_CHARS = 8
"""SMPP 3.4 limits a bind password to 8 characters."""


def matches(given: str, accepted: Iterable[str]) -> bool:
    """Whether ``given`` is one of ``accepted``: each compared in constant time, none skipped."""
    found = False
    raw = given.encode("utf-8", "surrogatepass")
    for token in accepted:
        found |= hmac.compare_digest(raw, token.encode("utf-8", "surrogatepass")) and bool(token)
    return found


def bearer(request: web.Request) -> str:
    """The token of an ``Authorization: Bearer TOKEN`` header, or ""."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def unauthorized(what: str) -> web.HTTPUnauthorized:
    """401 with a JSON reason and a Bearer challenge; raise it before anything is processed."""
    body = {"error": {"code": "E_UNAUTHORIZED", "rule": "",
                      "message": f"{what}: missing or invalid token"}}
    return web.HTTPUnauthorized(text=json.dumps(body), content_type="application/json",
                                headers={"WWW-Authenticate": 'Bearer realm="smsmenu"'})


def require(request: web.Request, accepted: Iterable[str], what: str, *,
            query: bool = False) -> None:
    """Raise 401 unless the request carries an accepted token (``query``: or ``?token=``)."""
    given = bearer(request) or (request.query.get("token", "") if query else "")
    if not matches(given, accepted):
        raise unauthorized(what)


ALPHANUMERIC = string.ascii_letters + string.digits


def new_token() -> str:
    """32 letters and digits (190 bits): safe in a URL, a header, and as a CLI argument."""
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(32))


def new_smpp_password() -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(SMPP_PASSWORD_CHARS))


@dataclass(frozen=True)
class DemoSecrets:
    """What demo mode generates once and keeps: one token per transport, the SMSC account's
    password."""

    api: str
    ussd: str
    kannel: str
    smsc: str
    """The SMSC simulator's handset API (``[smpp] simulator_token``)."""
    smpp_password: str


def demo_file(secret_file: str) -> Path:
    """Where demo mode keeps its secrets: beside the ledger's secret file."""
    return Path(secret_file).parent / DEMO_FILE


def _fresh() -> dict[str, str]:
    return {f.name: new_smpp_password() if f.name == "smpp_password" else new_token()
            for f in fields(DemoSecrets)}


def read_demo_secrets(path: Path) -> DemoSecrets | None:
    """The secrets kept at ``path``; None when there are none (or they are unreadable)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    names = {f.name for f in fields(DemoSecrets)}
    if not isinstance(data, dict) or not all(isinstance(data.get(n), str) and data[n]
                                             for n in names):
        return None
    return DemoSecrets(**{n: data[n] for n in names})


def demo_secrets(path: Path) -> DemoSecrets:
    """The secrets kept at ``path``; generated and written (mode 0600) on the first start."""
    found = read_demo_secrets(path)
    if found is not None:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return found
    made = DemoSecrets(**_fresh())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(made), f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return made


def client_token(settings: Settings, via: str) -> str:
    """The token a client (phone, load) sends for ``via`` (``http``: ``[api] token``; ``smsc``
    or ``smpp``: ``[smpp] simulator_token``; ``smgp``: ``[smgp] simulator_token``, else
    ``[smpp]``'s): the first configured, else demo mode's kept one."""
    configured = settings.api.token if via == "http" else settings.smpp.simulator_token
    if via == "smgp":
        configured = settings.smgp.simulator_token or configured
    if configured:
        return configured[0]
    kept = read_demo_secrets(demo_file(settings.ledger.secret_file))
    if kept is None:
        return ""
    return kept.api if via == "http" else kept.smsc
