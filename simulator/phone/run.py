"""The terminal phone as a tester starts it: interactive (Textual) or a transcript played headless."""

from __future__ import annotations

import functools
from pathlib import Path

from simulator.phone.lines import make_line


async def run_phone(*, via: str, server: str, control: str | None, token: str, msisdn: str,
                    script: Path | None, reply_wait: float, billing_url: str | None,
                    record: Path | None) -> int:
    """Exit 0 when the transcript matched (or the phone was closed), 1 on a mismatch."""
    if script is not None:
        from simulator.phone.script import play_file

        make = functools.partial(make_line, via, server=server, control=control,
                                 history=False, token=token)
        return await play_file(script, make, agent=msisdn, wait=reply_wait, billing_url=billing_url)
    from simulator.phone.app import PhoneApp

    make = functools.partial(make_line, via, server=server, control=control, token=token)
    app = PhoneApp(make, msisdn, record=record, via=via)
    await app.run_async()
    if record is not None:
        print(f"transcript written to {record}")
    return app.return_code or 0
