"""`smsmenu card push-menu`: an OTA update signed with the card's key, queued to its number."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_support import AGENT, SECRET_HEX, Cli, isolated

from simulator.card.applet import Applet, CardState
from simulator.card.terminal import Terminal
from smsmenu.core import ota


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    with isolated(tmp_path, monkeypatch) as clock:
        yield Cli(tmp_path, capsys, clock)


def outbox(run: Cli) -> list[tuple[str, str, str]]:
    with sqlite3.connect(run.db) as conn:
        return [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT to_msisdn, kind, text FROM outbox WHERE kind = 'ota' ORDER BY id")]


def test_push_menu_queues_a_packet_the_card_applies_once(run: Cli, tmp_path: Path) -> None:
    """Two pushes: counters 1 and 2 under the card's key; the card takes each once, in order."""
    run.agent()
    patch = tmp_path / "patch.toml"
    patch.write_text('[node.recharge]\ntext = "充值缴费"\n', "utf-8")
    first = run.ok("card", "push-menu", "--msisdn", AGENT, "--card", "8986a1b2", "--menu",
                   str(patch), "--json").json
    assert (first["card"], first["counter"], first["msisdn"]) == ("8986A1B2", 1, AGENT)
    run.ok("card", "push-menu", "--msisdn", AGENT, "--card", "8986A1B2", "--menu", str(patch))
    rows = outbox(run)
    assert [(to, kind) for to, kind, _ in rows] == [(AGENT, "ota")] * 2
    key = ota.card_key(bytes.fromhex(SECRET_HEX), "8986A1B2")
    card = Terminal(Applet(CardState("8986A1B2", "zh", key.hex())))
    packets = [ota.unarmor(text) for _, _, text in rows]
    assert all(packets)
    assert card.download(packets[0] or b"") and "1充值缴费" in card.idle_screen()
    assert not card.download(packets[0] or b"")  # the first one again: a replay
    assert card.download(packets[1] or b"") and card.applet.state.ota_counter == 2


def test_push_menu_needs_a_known_card_and_a_readable_patch(run: Cli, tmp_path: Path) -> None:
    """No card ever sent a command from the number: exit 3 naming --card; bad TOML: exit 78."""
    run.agent()
    patch = tmp_path / "patch.toml"
    patch.write_text('title = "x"\n', "utf-8")
    missing = run("card", "push-menu", "--msisdn", AGENT, "--menu", str(patch), "--lang", "en")
    assert missing.code == 3 and "--card" in missing.err
    patch.write_text("title = ", "utf-8")
    assert run("card", "push-menu", "--msisdn", AGENT, "--card", "AB12", "--menu",
               str(patch)).code == 78
    assert outbox(run) == []


def test_push_menu_refuses_a_patch_larger_than_one_sms(run: Cli, tmp_path: Path) -> None:
    """A patch that cannot fit one SMS-PP message is refused (exit 2), nothing is queued."""
    run.agent()
    patch = tmp_path / "big.toml"
    patch.write_text("".join(f'[node.n{i}]\ntext = "第{i}项"\n' for i in range(300)), "utf-8")
    big = run("card", "push-menu", "--msisdn", AGENT, "--card", "AB12", "--menu", str(patch))
    assert big.code == 2 and "one SMS" in big.err
    assert outbox(run) == []
