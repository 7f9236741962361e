"""What the portal counts and logs of each money action: a metric and one structured log line
per web recharge (and retry), deposit (counter and online) and reversal; a refusal's line
carries its code and rule (R-n)."""

from __future__ import annotations

import structlog

from ledger.api import RechargeResult, ReversalResult
from smsmenu.core.errors import SmsmenuError
from smsmenu.core.metrics import Metrics

log = structlog.get_logger("web.money")
WEB = "web"


def recharge(metrics: Metrics, agent_id: int, kind: str, amount_fen: int, *,
             done: RechargeResult | None = None, refused: SmsmenuError | None = None,
             retry: bool = False) -> None:
    """A web recharge (or retry, R-18): billing's outcome counted by kind and channel ``web``
    like the menu's; a refusal logged with its rule (it never reached billing)."""
    event = "web.retry" if retry else "web.recharge"
    if done is not None:
        metrics.recharges.labels(str(done.status), kind, WEB).inc()
        log.info(event, agent=agent_id, recharge=done.recharge_id, kind=kind,
                 amount_fen=amount_fen, status=str(done.status), failure=done.failure)
    elif refused is not None:
        log.info(event, agent=agent_id, kind=kind, amount_fen=amount_fen, status="refused",
                 code=refused.code, rule=refused.rule)


def deposit(metrics: Metrics, channel: str, agent_id: int, amount_fen: int, *,
            operator: str = "", refused: SmsmenuError | None = None) -> None:
    """A deposit at the counter (by ``operator``) or online (R-8, R-9), or its refusal."""
    outcome = "refused" if refused is not None else "succeeded"
    metrics.deposits.labels(channel, outcome).inc()
    if refused is None:
        metrics.deposited_fen.labels(channel).inc(amount_fen)
    log.info("web.deposit", agent=agent_id, channel=channel, amount_fen=amount_fen,
             operator=operator or None, status=outcome,
             **({"code": refused.code, "rule": refused.rule} if refused is not None else {}))


def reversal(metrics: Metrics, recharge_id: int, amount_fen: int, operator: str, *,
             done: ReversalResult | None = None, refused: SmsmenuError | None = None) -> None:
    """A reversal (R-23..R-25) by ``operator``: its outcome, or the rule that refused it."""
    outcome = str(done.status) if done is not None else "refused"
    metrics.reversals.labels(outcome).inc()
    log.info("web.reversal", recharge=recharge_id, amount_fen=amount_fen, operator=operator,
             status=outcome, reversal=done.reference if done is not None else None,
             failure=done.failure if done is not None else None,
             **({"code": refused.code, "rule": refused.rule} if refused is not None else {}))
