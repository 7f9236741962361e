"""A stand-in for ``smsmenu billing-sim`` while it is not there: ``billing_app`` in a process.

``python -m simulator.chaos.billing_proc --port N [--latency S] [--failure-rate F]
[--timeout-rate F]``; its faults change at run time through ``POST /faults``.
"""

from __future__ import annotations

import argparse

from aiohttp import web

from simulator.billing import BillingSimulator
from simulator.billing_http import billing_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--timeout-rate", type=float, default=0.0)
    args = parser.parse_args()
    sim = BillingSimulator(latency=args.latency, failure_rate=args.failure_rate,
                           timeout_rate=args.timeout_rate, seed=None)
    web.run_app(billing_app(sim), host="127.0.0.1", port=args.port, print=None,
                access_log=None)


if __name__ == "__main__":
    main()
