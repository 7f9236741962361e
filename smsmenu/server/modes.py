"""The two modes of ``serve``: production (what it refuses to start without) and demo (loopback,
simulators, generated tokens)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from smsmenu.core.settings import ConfigError, Settings
from smsmenu.core.tokens import MIN_CHARS, DemoSecrets, demo_file, demo_secrets
from smsmenu.gateway.smgp_config import parse_smgp_url
from smsmenu.gateway.smpp_config import parse_smpp_url
from smsmenu.server import smgp as smgp_side
from smsmenu.server.smpp import aims_at

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
EXIT_HINT = "(or try the demo: smsmenu serve --demo, which is what `make run` starts)"


def _short(section: str, tokens: tuple[str, ...]) -> list[str]:
    if any(len(t) < MIN_CHARS for t in tokens):
        return [f"[{section}] token: every token at least {MIN_CHARS} characters "
                f"(e.g. python -c 'import secrets; print(secrets.token_hex(20))')"]
    return []


def production_problems(settings: Settings) -> list[str]:
    """What plain ``serve`` lacks (each item names its setting); empty when it may start."""
    problems: list[str] = []
    billing, smpp, kannel, smgp = settings.billing, settings.smpp, settings.kannel, settings.smgp
    if billing.mode != "http":
        problems.append(f'[billing] mode = "http" (it is "{billing.mode}": the simulator runs in '
                        f"demo mode only)")
    if not billing.url:
        problems.append("[billing] url: the BOSS's address (SMSMENU_BILLING_URL)")
    if smpp.simulator:
        problems.append("[smpp] simulator = false (the SMSC simulator runs in demo mode only)")
    if smgp.simulator:
        problems.append("[smgp] simulator = false (the ISMG simulator runs in demo mode only)")
    if kannel.sendsms_url and not kannel.token:
        problems.append("[kannel] token: Kannel's get-url and dlr-url must carry ?token= "
                        "(SMSMENU_KANNEL_TOKEN)")
    transports = [smpp.binds, smgp.links, kannel.sendsms_url and kannel.token, settings.ussd.token,
                  settings.api.token]
    if not any(transports):
        problems.append("a message transport: [smpp] binds (SMSMENU_SMPP_BINDS), [smgp] links "
                        "(SMSMENU_SMGP_LINKS), [kannel] "
                        "sendsms_url with [kannel] token, [ussd] token (SMSMENU_USSD_TOKEN) or "
                        "[api] token (SMSMENU_API_TOKEN)")
    for section, tokens in (("api", settings.api.token), ("ussd", settings.ussd.token),
                            ("kannel", kannel.token), ("metrics", settings.metrics.token)):
        problems += _short(section, tokens)
    return problems


def check_production(settings: Settings) -> None:
    """Raise ``ConfigError`` (exit 78) naming every missing item."""
    problems = production_problems(settings)
    if problems:
        items = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"smsmenu serve needs, for production:\n{items}\n{EXIT_HINT}")


def _loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def demo_problems(settings: Settings) -> list[str]:
    """Demo mode listens on loopback only: every address that is not."""
    hosts = {"[http] host": settings.http.host, "[web] host": settings.web.host,
             "[smpp] simulator_host": settings.smpp.simulator_host,
             "[smgp] simulator_host": settings.smgp.simulator_host}
    if settings.billing.mode == "sim":
        hosts["[billing] url"] = urlsplit(settings.billing.url).hostname or ""
    return [f"{name} = {host!r} (demo mode listens on loopback only)"
            for name, host in hosts.items() if not _loopback(host)]


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc))


def _unsecured(url: str, host: str, port: int) -> bool:
    """A bind aimed at the simulator that names no password (it gets the generated one)."""
    try:
        bind = parse_smpp_url(url)
    except ValueError:
        return False  # refused later, with the reason
    return not bind.password and aims_at(bind, host, port)


def _unsecured_link(url: str, host: str, port: int) -> bool:
    """An SMGP link aimed at the ISMG simulator that names no secret."""
    try:
        link = parse_smgp_url(url)
    except ValueError:
        return False
    return not link.secret and smgp_side.aims_at(link, host, port)


def apply_demo(settings: Settings) -> tuple[Settings, DemoSecrets]:
    """Demo settings completed with the kept (or new) secrets: every unset token, and the
    password of each bind that names none. ``ConfigError`` if an address is not loopback."""
    problems = demo_problems(settings)
    if problems:
        raise ConfigError("smsmenu serve --demo:\n" + "\n".join(f"  - {p}" for p in problems))
    try:
        kept = demo_secrets(demo_file(settings.ledger.secret_file))
    except OSError as exc:
        raise ConfigError(f"cannot keep the demo tokens beside {settings.ledger.secret_file}: "
                          f"{exc.strerror or exc}") from None
    smpp, smgp = settings.smpp, settings.smgp
    links = tuple(_with_password(url, kept.smpp_password)
                  if smgp.simulator and _unsecured_link(url, smgp.simulator_host,
                                                        smgp.simulator_port)
                  else url for url in smgp.links)  # fmt: skip
    binds = tuple(_with_password(url, kept.smpp_password)
                  if smpp.simulator and _unsecured(url, smpp.simulator_host, smpp.simulator_port)
                  else url for url in smpp.binds)
    settings = (settings.replace("api", token=settings.api.token or (kept.api,))
                .replace("ussd", token=settings.ussd.token or (kept.ussd,))
                .replace("kannel", token=settings.kannel.token or (kept.kannel,))
                .replace("smgp", links=links)
                .replace("smpp", binds=binds,
                         simulator_token=settings.smpp.simulator_token or (kept.smsc,)))
    return settings, kept


def demo_banner(settings: Settings, kept: DemoSecrets) -> str:
    """What demo mode says before it starts: what it is, where it listens, the tokens."""
    path = demo_file(settings.ledger.secret_file)
    api, ussd = settings.api.token[0], settings.ussd.token[0]
    kannel, smsc = settings.kannel.token[0], settings.smpp.simulator_token[0]
    smpp = [urlsplit(u) for u in settings.smpp.binds]
    accounts = ", ".join(f"{u.username}:{u.password}" for u in smpp if u.username)
    g = settings.smgp
    ours = [u for u in map(urlsplit, g.links) if g.simulator and u.username and u.password
            and u.hostname in LOOPBACK and u.port == g.simulator_port]  # the simulator's only
    ismg = ", ".join(f"{u.username}:{u.password}" for u in ours)
    return "\n".join([
        "=" * 78,
        "smsmenu DEMO MODE: simulated billing (BOSS), SMSC and bank; a demo agent and operator.",
        f"Listening on loopback only ({settings.http.host}, {settings.web.host}). Not for "
        "production: see README, Two modes.",
        f"Tokens (generated once, kept in {path}, mode 0600):",
        f"  [api] token              {api}",
        f"  [ussd] token             {ussd}",
        f"  [kannel] token           {kannel}",
        f"  [smpp] simulator_token   {smsc}   (the handsets' API under /smsc)",
        *([f"  SMSC simulator account   {accounts}"] if accounts else []),
        *([f"  ISMG simulator account   {ismg}   (SMGP; handsets under /ismg)"] if ismg else []),
        f"  e.g. curl -H 'Authorization: Bearer {api}' -H 'Content-Type: application/json' "
        f"-d '{{\"from\": \"18900000001\", \"text\": \"1\", \"id\": \"a1\"}}' "
        f"http://{settings.http.host}:{settings.http.port}/api/sms",
        "=" * 78])
