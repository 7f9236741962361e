"""A lean HTTP/1.1 client for one origin (the BOSS): keep-alive connections, bounded answers.

It does what the billing client needs and nothing else: ``request(method, path, body)`` sends one
request (a JSON body or none) on an idle kept-alive connection or a new one and returns the
status and the body (``Content-Length``, ``chunked``, or up to the end of the connection).
It is on every recharge's path: a call costs about a fifth of the CPU of aiohttp's client
(``make bench``), which matters at thousands of messages a second.

Failures say how far the request got: ``ConnectFailed`` (no connection: nothing was sent),
``Broken`` (the connection broke or the answer was unreadable after the request may have
left). A kept-alive connection the server closed while it was idle shows as a break before
any byte of an answer: the request goes once more on a new connection (the server never read
it; BOSS's writes are idempotent by reference besides). Timeouts are the caller's
(``asyncio.timeout`` around the call); a connection interrupted by one is closed, never reused.
"""

from __future__ import annotations

import asyncio
import ssl
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
"""Bytes of a status line and headers before the answer is refused as unreadable."""
MAX_BODY = 64 * 1024 * 1024
"""Bytes of a body (a busy day's ``/credits``) before the answer is refused as unreadable."""
MAX_IDLE = 32
"""Idle connections kept for reuse."""

Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class ConnectFailed(Exception):
    """No connection could be made (refused, unreachable, name unknown, TLS refused): nothing
    was sent."""


class Broken(Exception):
    """The connection broke, or the answer was not HTTP we can read, after the request may
    have left."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


class Origin:
    """Requests to one ``http://`` or ``https://`` origin (with an optional path prefix); an
    https origin's certificate is checked against ``ca_file`` (PEM), else the system's CAs."""

    def __init__(self, base_url: str, *, max_idle: int = MAX_IDLE, ca_file: str = "") -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        try:
            self.tls = (ssl.create_default_context(cafile=ca_file or None)
                        if url.scheme == "https" else None)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot read the CA file {ca_file}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
        self.prefix = url.path.rstrip("/")
        default = (url.scheme == "https" and self.port == 443) or self.port == 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._host_line = f"Host: {host}{'' if default else f':{self.port}'}\r\n"
        self.max_idle = max_idle
        self._idle: list[Conn] = []

    async def request(self, method: str, path: str, body: bytes | None = None) -> Answer:
        """Send one request and read its answer (see the module's failures)."""
        head = f"{method} {self.prefix}{path} HTTP/1.1\r\n{self._host_line}"
        if body is None:
            data = (head + "\r\n").encode("latin-1")
        else:
            data = (head + "Content-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
        while True:
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else await self._open()
            try:
                conn[1].write(data)
                answer, keep = await _read(conn[0], method)
            except _Stale:
                _close(conn)
                if reused:
                    continue  # closed by the server while idle: it never read the request
                raise Broken("the connection closed before any answer") from None
            except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ValueError) as exc:  # fmt: skip
                _close(conn)
                raise Broken(str(exc) or type(exc).__name__) from exc
            except BaseException:  # a timeout or a cancel mid-answer: the connection is spent
                _close(conn)
                raise
            if keep and len(self._idle) < self.max_idle:
                self._idle.append(conn)
            else:
                _close(conn)
            return answer

    async def aclose(self) -> None:
        """Close the idle connections (a later request opens new ones)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            _close(conn)
        for _, writer in idle:
            with suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    async def _open(self) -> Conn:
        try:
            return await asyncio.open_connection(
                self.host, self.port, ssl=self.tls, limit=MAX_HEAD,
                server_hostname=self.host if self.tls else None)
        except (OSError, ssl.SSLError) as exc:  # refused, unreachable, no such name, TLS
            raise ConnectFailed(str(exc) or type(exc).__name__) from exc


class _Stale(Exception):
    """The connection ended before a single byte of an answer."""


async def _read(reader: asyncio.StreamReader, method: str) -> tuple[Answer, bool]:
    """One answer (1xx skipped): it and whether the connection may carry another request."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _Stale() from None
            raise
        except ConnectionResetError:
            raise _Stale() from None
        lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1 answer: {lines[0][:60]!r}")
        status = int(rest[:3])
        if not 100 <= status <= 599:
            raise ValueError(f"status {status}")
        if status >= 200:
            break
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"not a header: {line[:60]!r}")
        headers[name.strip().lower()] = value.strip()
    keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if method == "HEAD" or status in (204, 304):
        return Answer(status, b""), keep
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return Answer(status, await _chunked(reader)), keep
    if "content-length" in headers:
        length = int(headers["content-length"])
        if not 0 <= length <= MAX_BODY:
            raise ValueError(f"Content-Length {length}")
        return Answer(status, await reader.readexactly(length)), keep
    body = await reader.read(MAX_BODY + 1)  # delimited by the end of the connection
    while len(body) <= MAX_BODY and (more := await reader.read(MAX_BODY + 1 - len(body))):
        body += more
    if len(body) > MAX_BODY:
        raise ValueError("answer too long")
    return Answer(status, body), False


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            break
        total += size
        if total > MAX_BODY:
            raise ValueError("answer too long")
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("a chunk without its CRLF")
    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, ignored
        pass
    return b"".join(parts)


def _close(conn: Conn) -> None:
    with suppress(OSError, RuntimeError):
        conn[1].close()
