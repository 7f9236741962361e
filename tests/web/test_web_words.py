"""The portal's words live under config/: its errors render through the one error renderer."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from smsmenu.core.errors import SmsmenuError, render
from smsmenu.core.settings import config_path
from smsmenu.web import errors
from smsmenu.web.i18n import LANGS, translator

RENDERED = [
    (errors.LoginFailed(), "账号或密码错误", "Wrong account or password"),
    (errors.AgentLoginFailed(attempts=5), "账号或密码错误。连续失败5次将锁定网页登录并短信通知代办户",
     "Wrong account or password. 5 failures in a row lock the web login; the agent is told by SMS"),
    (errors.CodeRefused(), "验证码错误或已失效，请重新获取", "Wrong or expired code; request a new one"),
    (errors.LoginCodeRefused(attempts=5),
     "验证码错误或已失效，请重新获取。连续失败5次将锁定网页登录并短信通知代办户",
     "Wrong or expired code; request a new one. 5 failures in a row lock the web login; the"
     " agent is told by SMS"),
    (errors.RateLimited(wait=15), "操作过于频繁，请15分钟后再试",
     "Too many attempts; try again in 15 minutes"),
    (errors.Forbidden(), "您的角色无权执行此操作", "Your role may not do this"),
    (errors.CsrfFailed(), "页面已过期，请返回刷新后重试", "This page expired; go back, reload and retry"),
    (errors.PageNotFound(), "找不到该页面或记录", "No such page or record"),
    (errors.FormError(why="缺少金额"), "缺少金额", "缺少金额"),
    (errors.WeakPassword(min=10), "操作员密码至少10个字符",
     "An operator password has at least 10 characters"),
    (errors.BadSignature(), "签名无效", "Bad signature"),
    (errors.DuplicateOperator(name="wang"), "操作员wang已存在", "Operator wang already exists"),
]


@pytest.mark.parametrize(("error", "zh", "en"),
                         [pytest.param(*case, id=type(case[0]).__name__) for case in RENDERED])
def test_web_errors_render_from_the_texts(error: SmsmenuError, zh: str, en: str) -> None:
    """Each web error's words come from ``[error]`` (as they read before they moved there)."""
    assert (error.message("zh"), error.message("en")) == (zh, en)
    assert render(error, "fr") == en
    assert not type(error).messages


def test_variants_keep_their_codes() -> None:
    """An agent's refused login and code keep the codes they are logged and audited by."""
    assert (errors.AgentLoginFailed.code, errors.LoginCodeRefused.code) == ("E_LOGIN", "E_CODE")
    assert errors.AgentLoginFailed(attempts=5).key() == "E_LOGIN_AGENT"


def test_portal_texts_live_under_config() -> None:
    """The page texts are ``config/web/<lang>.toml`` (shipped with the config), none in the
    portal's package; the language switch still reads them."""
    root = Path(__file__).parents[2]
    for lang in LANGS:
        assert config_path(f"web/{lang}.toml").resolve() == (root / "config" / "web" /
                                                             f"{lang}.toml").resolve()
    assert not list((root / "smsmenu" / "web").rglob("*.toml"))
    data = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    assert "web/*.toml" in data["tool"]["setuptools"]["package-data"]["smsmenu.config"]
    assert translator("en")("app.name") != translator("zh")("app.name")
