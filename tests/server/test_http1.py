"""The BOSS's HTTP/1.1 client: framing, keep-alive, stale connections, bounds, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from smsmenu.server import http1
from smsmenu.server.http1 import Broken, ConnectFailed, Origin

Reply = Callable[[bytes], bytes | None]
"""What the test server answers a request with (None: close without a word)."""

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"


class Server:
    """A raw TCP server that reads whole requests and answers each with ``reply(request)``."""

    def __init__(self, reply: Reply, close_after: bool = False) -> None:
        self.reply = reply
        self.close_after = close_after
        self.requests: list[bytes] = []
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = self.reply(request)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def served(reply: Reply, close_after: bool = False) -> AsyncIterator[tuple[Server, Origin]]:
    server = Server(reply, close_after)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    origin = Origin(f"http://127.0.0.1:{port}/boss")
    try:
        yield server, origin
    finally:
        await origin.aclose()
        listener.close()
        for w in server.writers:
            w.close()


@pytest.mark.parametrize("answer, body", [
    pytest.param(OK, b'{"ok":true}', id="content-length"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n{\"ok\r\n"
                 b"7\r\n\":true}\r\n0\r\nX-Trailer: 1\r\n\r\n", b'{"ok":true}', id="chunked"),
    pytest.param(b"HTTP/1.1 100 Continue\r\n\r\n" + OK, b'{"ok":true}', id="after-100-continue"),
    pytest.param(b"HTTP/1.1 204 No Content\r\n\r\n", b"", id="no-content"),
])
async def test_answers_are_framed(answer: bytes, body: bytes) -> None:
    """Content-Length, chunked (extensions and trailers ignored), 1xx skipped, 204 empty; the
    request carries the path prefix, Host, and a JSON body with its length."""
    async with served(lambda _: answer) as (server, origin):
        got = await origin.request("POST", "/credit", b'{"a":1}')
        assert (got.status, got.body) == (int(answer.split(b" ")[1]) if b"100" not in answer[:13]
                                          else 200, body)
        request = server.requests[0]
        assert request.startswith(b"POST /boss/credit HTTP/1.1\r\nHost: 127.0.0.1:")
        assert b"Content-Length: 7\r\n" in request and request.endswith(b'\r\n\r\n{"a":1}')


async def test_connections_are_kept_alive_and_reused() -> None:
    """Sequential requests share one connection; ``Connection: close`` ends it."""
    closing = OK.replace(b"200 OK\r\n", b"200 OK\r\nConnection: close\r\n")
    async with served(lambda r: closing if b"/last" in r else OK) as (server, origin):
        for _ in range(3):
            await origin.request("GET", "/status/a")
        assert server.connections == 1
        await origin.request("GET", "/last")
        await origin.request("GET", "/status/b")
        assert server.connections == 2


async def test_a_connection_closed_while_idle_is_retried_on_a_new_one() -> None:
    """The server closed a kept-alive connection: the next request goes on a fresh one."""
    async with served(lambda _: OK) as (server, origin):
        await origin.request("GET", "/x")
        for w in server.writers:
            w.close()
        await asyncio.sleep(0.05)
        assert (await origin.request("POST", "/credit", b"{}")).status == 200
        assert server.connections == 2


async def test_a_fresh_connection_closed_without_answer_is_broken() -> None:
    """On a new connection, an end before any answer is a break (the request may have been read)."""
    async with served(lambda _: None) as (_, origin):
        with pytest.raises(Broken):
            await origin.request("POST", "/credit", b"{}")


@pytest.mark.parametrize("answer", [
    pytest.param(b"SSH-2.0-OpenSSH\r\n\r\n", id="not-http"),
    pytest.param(b"HTTP/1.1 abc\r\n\r\n", id="bad-status"),
    pytest.param(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", id="bad-header"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", id="negative-length"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort", id="short-body"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad-chunk"),
    pytest.param(b"HTTP/1.1 200 OK\r\nX: " + b"a" * (http1.MAX_HEAD + 10) + b"\r\n\r\n",
                 id="head-too-long"),
])
async def test_unreadable_answers_are_broken(answer: bytes) -> None:
    """Whatever is not HTTP/1 we can read ends as ``Broken``, and its connection is dropped."""
    async with served(lambda _: answer, close_after=True) as (_, origin):
        with pytest.raises(Broken):
            await origin.request("GET", "/x")
        assert origin._idle == []


async def test_an_answer_over_the_body_bound_is_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    """A body longer than ``MAX_BODY`` (declared or delimited by the close) is refused."""
    monkeypatch.setattr(http1, "MAX_BODY", 10)
    long_ = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n" + b"x" * 11
    async with served(lambda _: long_) as (_, origin):
        with pytest.raises(Broken):
            await origin.request("GET", "/x")
    until_close = b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 20
    async with served(lambda _: until_close) as (_, origin):
        with pytest.raises(Broken):
            await origin.request("GET", "/x")


async def test_nothing_listening_is_connect_failed() -> None:
    """A refused connection says nothing was sent."""
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    with pytest.raises(ConnectFailed):
        await Origin(f"http://127.0.0.1:{port}").request("GET", "/x")


async def test_a_timeout_mid_answer_drops_the_connection() -> None:
    """Cut by the caller's timeout: the half-read connection is never reused."""
    async with served(lambda r: OK[:30] if b"/slow" in r else OK) as (server, origin):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await origin.request("GET", "/slow")
        assert origin._idle == []
        assert (await origin.request("GET", "/x")).status == 200
        assert server.connections == 2


@pytest.mark.parametrize("url", ["ftp://boss", "http://", "boss:80"])
def test_only_http_urls(url: str) -> None:
    """An origin is an http:// or https:// URL with a host."""
    with pytest.raises(ValueError, match="not an http"):
        Origin(url)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (openssl) and its key: (cert, key) paths."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    where = tmp_path_factory.mktemp("tls")
    cert, key = str(where / "boss.pem"), str(where / "boss.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=boss", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


async def test_https_checks_the_certificate(certificate: tuple[str, str]) -> None:
    """Over https the BOSS's certificate is checked: against ``ca_file`` it answers; against
    the system's CAs (a private one) no connection is made."""
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = Server(lambda _: OK)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0, ssl=context)
    port = listener.sockets[0].getsockname()[1]
    trusted = Origin(f"https://127.0.0.1:{port}", ca_file=cert)
    try:
        assert (await trusted.request("GET", "/x")).body == b'{"ok":true}'
        with pytest.raises(ConnectFailed):
            await Origin(f"https://127.0.0.1:{port}").request("GET", "/x")
    finally:
        await trusted.aclose()
        listener.close()
        for w in server.writers:
            w.close()


@pytest.mark.parametrize("url, ca_file, says", [
    pytest.param("https://boss.example", "/nonexistent/ca.pem", "cannot read the CA file",
                 id="ca-file-missing"),
    pytest.param("boss.example:8090", "", "not an http", id="no-scheme"),
])
def test_a_bad_billing_address_is_a_configuration_error(url: str, ca_file: str,
                                                        says: str) -> None:
    """A BOSS URL that is no http(s) one or an unreadable CA file stops the start with a
    configuration error naming it (exit 78), not a traceback at the first recharge."""
    from smsmenu.core.settings import ConfigError
    from smsmenu.server.billing import HttpBilling

    with pytest.raises(ConfigError, match=says) as refused:
        HttpBilling(url, ca_file=ca_file)
    assert refused.value.exit_code == 78

