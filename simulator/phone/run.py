"""The terminal phone as a tester starts it: interactive (Textual) or a transcript played headless."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from simulator.phone.card_mode import CardHandset, CardSetup
from simulator.phone.lines import make_line
from simulator.transcript import Transcript


async def run_phone(*, via: str, server: str, control: str | None, token: str, msisdn: str,
                    script: Path | None, reply_wait: float, billing_url: str | None,
                    record: Path | None, card: CardSetup | None = None,
                    show_hex: bool = False) -> int:
    """Exit 0 when the transcript matched (or the phone was closed), 1 on a mismatch.

    ``card``: card mode (the agent's handset runs the 空中充值 card); ``show_hex``: every
    exchange with the card as hex (printed in script mode, a pane in the phone)."""
    if script is not None:
        from simulator.phone.card_script import CardScriptRunner
        from simulator.phone.script import ScriptRunner, play_file

        make = functools.partial(make_line, via, server=server, control=control,
                                 history=False, token=token)

        def runner(transcript: Transcript) -> ScriptRunner:
            assert card is not None
            return CardScriptRunner(transcript, make, CardHandset(transcript.agent, card),
                                    timeout=reply_wait, billing_url=billing_url,
                                    hex_out=sys.stdout if show_hex else None)
        return await play_file(script, make, agent=msisdn, wait=reply_wait,
                               billing_url=billing_url, runner_for=runner if card else None)
    from simulator.phone.app import PhoneApp

    make = functools.partial(make_line, via, server=server, control=control, token=token)
    handset = CardHandset(msisdn, card) if card is not None else None
    app = PhoneApp(make, msisdn, record=record, via=via, card=handset, show_hex=show_hex,
                   billing_url=billing_url)
    await app.run_async()
    if record is not None:
        print(f"transcript written to {record}")
    return app.return_code or 0
