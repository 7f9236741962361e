"""The two modes: plain `serve` is production (exit 78 naming what is missing; no simulator),
`serve --demo` runs the simulators on loopback with tokens generated once and kept in var/."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from smsmenu.cli import entry as cli
from smsmenu.cli import serve as cli_serve
from smsmenu.cli.common import ConfigError
from smsmenu.core.settings import Settings, load_settings
from smsmenu.core.tokens import DEMO_FILE, matches
from smsmenu.gateway.smpp_codec import RINVPASWD, ROK, Pdu
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.server.modes import apply_demo, production_problems

ROOT = str(Path(__file__).resolve().parents[2])
API = "prod-api-token-0123456789"
BILLING = "[billing]\nurl = \"http://127.0.0.1:9\"\n"


@pytest.fixture(autouse=True)
def no_smsmenu_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the test's settings: no SMSMENU_* variable of the machine running it."""
    for name in [n for n in os.environ if n.startswith("SMSMENU_")]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize(("config", "missing", "not_missing"), [
    pytest.param("", ["[billing] url", "a message transport"], [], id="defaults"),
    pytest.param(BILLING, ["a message transport"], ["[billing] url"], id="no-transport"),
    pytest.param(f'[api]\ntoken = ["{API}"]\n', ["[billing] url"], ["a message transport"],
                 id="no-billing"),
    pytest.param('[billing]\nmode = "sim"\nurl = "http://127.0.0.1:8090"\n[smpp]\n'
                 'simulator = true\nbinds = ["smpp://a:b@127.0.0.1:2775"]\n',
                 ['[billing] mode = "http"', "[smpp] simulator = false"],
                 ["a message transport", "[billing] url"], id="simulators"),
    pytest.param(f'{BILLING}[ussd]\ntoken = "short"\n', ["[ussd] token: every token at least 16"],
                 ["a message transport"], id="short-token"),
    pytest.param(f'{BILLING}[kannel]\nsendsms_url = "http://k:13013/cgi-bin/sendsms"\n',
                 ["[kannel] token", "a message transport"], [], id="kannel-without-token"),
])
def test_plain_serve_refuses_to_start_naming_each_missing_item(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, missing: list[str],
        not_missing: list[str]) -> None:
    """Exit 78 with every missing item on its own line and the demo as the alternative."""
    path = tmp_path / "prod.toml"
    path.write_text(config, "utf-8")
    code = cli.main(["serve", "--config", str(path), "--db", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert code == 78, err
    assert err.startswith("error: smsmenu serve needs, for production:\n")
    assert "smsmenu serve --demo" in err
    for item in missing:
        assert f"  - {item}" in err, err
    for item in not_missing:
        assert f"  - {item}" not in err, err
    assert not (tmp_path / "x.db").exists()  # nothing was started


def test_production_is_satisfied_by_billing_and_any_one_transport() -> None:
    """A BOSS URL and one of: an SMPP bind, Kannel with its token, a USSD token, an API token."""
    base = load_settings(env={}).replace("billing", url="https://boss.example")
    token = ("t" * 16,)
    for ready in (base.replace("smpp", binds=("smpp://id:pw@smsc.example:2775",)),
                  base.replace("kannel", sendsms_url="http://k/cgi-bin/sendsms", token=token),
                  base.replace("ussd", token=token), base.replace("api", token=token)):
        assert production_problems(ready) == []


def test_the_defaults_are_production_and_demo_toml_holds_the_simulators() -> None:
    """default.toml: no simulator, no transport, no bank, loopback; demo.toml turns them on."""
    plain, demo = load_settings(env={}), load_settings(env={}, demo=True)
    assert (plain.billing.mode, plain.billing.url, plain.smpp.simulator, plain.smpp.binds) == (
        "http", "", False, ())
    assert (plain.api.token, plain.ussd.token, plain.kannel.token, plain.bank.url) == (
        (), (), (), "")
    assert (plain.http.port, plain.web.port, plain.web.host) == (8080, 8081, "127.0.0.1")
    assert (demo.billing.mode, demo.billing.url, demo.smpp.simulator) == (
        "sim", "http://127.0.0.1:8090", True)


def test_token_settings_are_lists_from_toml_or_the_environment(tmp_path: Path) -> None:
    """Rotation: a TOML list (or one string), or SMSMENU_<SECTION>_TOKEN split on commas."""
    env = {"SMSMENU_API_TOKEN": "new-one,old-one", "SMSMENU_USSD_TOKEN": "u",
           "SMSMENU_KANNEL_TOKEN": "k", "SMSMENU_WEB_PORT": "9091", "SMSMENU_WEB_HOST": "0.0.0.0"}
    settings = load_settings(env=env)
    assert (settings.api.token, settings.ussd.token, settings.kannel.token) == (
        ("new-one", "old-one"), ("u",), ("k",))
    assert (settings.web.port, settings.web.host) == (9091, "0.0.0.0")
    path = tmp_path / "s.toml"
    path.write_text('[metrics]\ntoken = "m"\n[smpp]\nsimulator_token = ["a", "b"]\n', "utf-8")
    from_file = load_settings(path, env={})
    assert (from_file.metrics.token, from_file.smpp.simulator_token) == (("m",), ("a", "b"))


def test_tokens_are_compared_in_constant_time_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every accepted token goes through hmac.compare_digest, even after a match; "" never
    matches."""
    compared: list[bytes] = []
    real = __import__("hmac").compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append(b)
        return bool(real(a, b))

    monkeypatch.setattr("smsmenu.core.tokens.hmac.compare_digest", spy)
    assert matches("one", ["one", "two"]) and compared == [b"one", b"two"]
    assert not matches("three", ["one", "two"])
    assert not matches("", [""]) and not matches("x", [])


def demo_settings(tmp_path: Path) -> Settings:
    """demo.toml on free ports, the ledger (and so the token file) under ``tmp_path``."""
    base = load_settings(env={}, demo=True)
    binds = tuple(b.replace(":2775", ":0") for b in base.smpp.binds)
    return (base.replace("ledger", db=str(tmp_path / "var" / "demo.db"),
                         secret_file=str(tmp_path / "var" / "secret"), synchronous="OFF")
            .replace("http", port=0).replace("web", port=0)
            .replace("billing", url="http://127.0.0.1:0")
            .replace("smpp", simulator_port=0, binds=binds))


def test_demo_refuses_an_address_that_is_not_loopback(tmp_path: Path) -> None:
    """Demo mode listens on loopback only: another [http] or [web] host is a ConfigError."""
    for section in ("http", "web"):
        settings = demo_settings(tmp_path).replace(section, host="0.0.0.0")
        with pytest.raises(ConfigError, match=rf"\[{section}\] host = '0.0.0.0'.*loopback only"):
            apply_demo(settings)


def test_demo_tokens_are_made_once_kept_0600_and_fill_only_what_is_unset(tmp_path: Path) -> None:
    """First start writes them (mode 0600); the next reads the same; a configured token wins;
    the simulator's bind gets a generated password (never smsmenu:secret)."""
    settings, kept = apply_demo(demo_settings(tmp_path))
    path = tmp_path / "var" / DEMO_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text("utf-8"))["api"] == kept.api == settings.api.token[0]
    assert settings.smpp.binds == (f"smpp://smsmenu:{kept.smpp_password}@127.0.0.1:0"
                                   f"?source_addr=10658",)
    assert len(kept.smpp_password) == 8 and kept.smpp_password != "secret"
    again, kept_again = apply_demo(demo_settings(tmp_path).replace("ussd", token=("mine",)))
    assert kept_again == kept and again.ussd.token == ("mine",)
    assert again.smpp.simulator_token == (kept.smsc,) and again.kannel.token == (kept.kannel,)


async def bind(port: int, system_id: str, password: str) -> int:
    """A bare bind_transceiver to ``port``; the status the SMSC answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def ignore(session: SmppSession, pdu: Pdu) -> None:
        session.respond(pdu)

    session = SmppSession(reader, writer, ignore, response_timeout=5.0, name="probe")
    runner = asyncio.create_task(session.run())
    try:
        resp = await session.request(session.make("bind_transceiver", system_id=system_id,
                                                  password=password))
        return resp.status
    finally:
        await session.aclose()
        await asyncio.gather(runner, return_exceptions=True)


@asynccontextmanager
async def demo_server(settings: Settings, capsys: pytest.CaptureFixture[str]
                      ) -> AsyncIterator[str]:  # fmt: skip
    """`serve --demo` in this process until the block ends; what it printed once bound."""
    stop = asyncio.Event()
    task = asyncio.create_task(cli_serve.serve(settings, demo=True, stop=stop))
    out = ""
    try:
        while "SMPP bound" not in out:
            assert not task.done(), out
            await asyncio.sleep(0.02)
            out += capsys.readouterr().out
        yield out
    finally:
        stop.set()
        assert await task == 0


def after(out: str, marker: str) -> str:
    return out.split(marker, 1)[1].split()[0]


async def test_demo_mode_prints_its_banner_and_guards_every_transport(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Banner (demo, loopback, tokens); /api/sms and the handsets' API want the printed tokens;
    a bind with the old default account is refused; the simulated bank is on the portal."""
    async with demo_server(demo_settings(tmp_path), capsys) as out:
        assert "smsmenu DEMO MODE" in out and "Listening on loopback only" in out
        kept = json.loads((tmp_path / "var" / DEMO_FILE).read_text("utf-8"))
        assert f"[api] token              {kept['api']}" in out
        assert f"[smpp] simulator_token   {kept['smsc']}" in out
        http, web = after(out, "listening on "), after(out, "web portal: ").removesuffix("/web/")
        smsc_port = int(after(out, "SMSC simulator on ").rsplit(":", 1)[1].rstrip(";"))
        body = {"from": "18900000001", "text": "YE*135790", "id": "d1"}
        inbox = f"{http}/smsc/handsets/18900000001/inbox"
        async with aiohttp.ClientSession() as client:
            async with client.post(f"{http}/api/sms", json=body) as resp:
                assert resp.status == 401
            async with client.post(f"{http}/api/sms", json=body,
                                   headers={"Authorization": f"Bearer {kept['api']}"}) as resp:
                assert resp.status == 200
                assert "1000.00" in (await resp.json())["replies"][0]["text"]
            async with client.get(inbox) as resp:
                assert resp.status == 401
            async with client.get(inbox, headers={"Authorization": f"Bearer {kept['smsc']}"}
                                  ) as resp:  # fmt: skip
                assert resp.status == 200
            async with client.get(f"{web}/bank/pay") as resp:
                assert resp.status != 404
        assert await bind(smsc_port, "smsmenu", "secret") == RINVPASWD
        assert await bind(smsc_port, "smsmenu", kept["smpp_password"]) == ROK


@pytest.mark.slow
async def test_production_serve_runs_no_simulator_and_wants_its_tokens(tmp_path: Path) -> None:
    """`smsmenu serve` with a BOSS URL and an API token starts; /api/sms wants the token; no
    /bank/, no /smsc, no online top-up, USSD and Kannel off (404); Ctrl-C stops it (exit 0)."""
    config = tmp_path / "prod.toml"
    config.write_text(f'{BILLING}[http]\nport = 0\n[web]\nport = 0\n[api]\ntoken = ["{API}"]\n'
                      f'[ledger]\nsecret_file = "{tmp_path / "secret"}"\n', "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsmenu", "serve", "--config", str(config), "--db",
        str(tmp_path / "prod.db"), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, cwd=tmp_path, env={**env, "PYTHONPATH": ROOT})
    assert proc.stdout is not None
    try:
        out = ""
        while "web portal: " not in out:
            line = (await proc.stdout.readline()).decode()
            assert line, f"the server stopped: {out}"
            out += line
        assert "DEMO" not in out and "demo agent" not in out
        http, web = after(out, "listening on "), after(out, "web portal: ").removesuffix("/web/")
        body = {"from": "18900000001", "text": "1", "id": "p1"}
        async with aiohttp.ClientSession() as client:
            async with client.post(f"{http}/api/sms", json=body) as resp:
                assert resp.status == 401
            async with client.post(f"{http}/api/sms", json=body,
                                   headers={"Authorization": f"Bearer {API}"}) as resp:
                assert resp.status == 200  # not an agent, answered
            for url in (f"{web}/bank/pay", f"{http}/smsc/handsets/18900000001/inbox",
                        f"{web}/web/topup", f"{http}/ussd", f"{http}/kannel/mo",
                        f"{http}/web/", f"{web}/api/sms", f"{web}/healthz"):
                async with client.get(url, allow_redirects=False) as resp:
                    assert resp.status in (404, 405), url
            async with client.get(f"{web}/web/login", allow_redirects=False) as resp:
                assert resp.status == 200
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
