"""The portal's own refusals (login, codes, rate limits, roles, CSRF), in the project's error tree."""

from __future__ import annotations

from smsmenu.core.errors import Conflict, InputError, NotFound, Refused, SmsmenuError


class LoginFailed(Refused):
    """Unknown account or wrong operator password; says no more than that."""

    code = "E_LOGIN"
    http_status = 401
    commit_effects = True
    messages = {"zh": "账号或密码错误", "en": "Wrong account or password"}


class AgentLoginFailed(LoginFailed):
    """Every refused agent login but a malformed password or a blocked address: unknown account,
    wrong password and locked web login read the same (the agent learns of a lock by SMS)."""

    messages = {"zh": "账号或密码错误。连续失败{attempts}次将锁定网页登录并短信通知代办户",
                "en": "Wrong account or password. {attempts} failures in a row lock the web login;"
                      " the agent is told by SMS"}


class CodeRefused(Refused):
    """A one-time code that is wrong, expired, used up or never sent."""

    code = "E_CODE"
    commit_effects = True
    messages = {"zh": "验证码错误或已失效，请重新获取", "en": "Wrong or expired code; request a new one"}


class RateLimited(Refused):
    code = "E_RATE_LIMIT"
    http_status = 429
    messages = {"zh": "操作过于频繁，请{wait}分钟后再试",
                "en": "Too many attempts; try again in {wait} minutes"}


class Forbidden(SmsmenuError):
    code = "E_FORBIDDEN"
    http_status = 403
    messages = {"zh": "您的角色无权执行此操作", "en": "Your role may not do this"}


class CsrfFailed(Forbidden):
    code = "E_CSRF"
    messages = {"zh": "页面已过期，请返回刷新后重试", "en": "This page expired; go back, reload and retry"}


class PageNotFound(NotFound):
    code = "E_NOT_FOUND"
    messages = {"zh": "找不到该页面或记录", "en": "No such page or record"}


class FormError(InputError):
    """A form field that is missing or malformed; ``why`` names it in the user's language."""

    code = "E_FORM"
    messages = {"zh": "{why}", "en": "{why}"}


class BadForm(InputError):
    """A POST body that is no readable form: a bad multipart boundary, an unknown charset..."""

    code = "E_BAD_FORM"
    messages = {"zh": "无法读取提交的表单：请以UTF-8编码的application/x-www-form-urlencoded或"
                      "multipart/form-data提交",
                "en": "The form could not be read: send it as application/x-www-form-urlencoded"
                      " or multipart/form-data in UTF-8"}


class WeakPassword(InputError):
    code = "E_OPERATOR_PASSWORD"
    messages = {"zh": "操作员密码至少{min}个字符", "en": "An operator password has at least {min} characters"}


class BadSignature(Forbidden):
    code = "E_SIGNATURE"
    messages = {"zh": "签名无效", "en": "Bad signature"}


class DuplicateOperator(Conflict):
    code = "E_DUPLICATE_OPERATOR"
    messages = {"zh": "操作员{name}已存在", "en": "Operator {name} already exists"}


class OwnAccount(Refused):
    """A supervisor may not deactivate or demote itself: there is always an active supervisor."""

    code = "E_OWN_ACCOUNT"
    messages = {"zh": "不能停用自己的账号或取消自己的主管角色（须始终保留一名在用的主管）",
                "en": "You cannot deactivate your own account or give up your own supervisor role"
                      " (there must always be an active supervisor)"}


class LoginCodeRefused(CodeRefused):
    """A refused code login: no live code, a wrong one, or a locked web login read the same."""

    messages = {"zh": "验证码错误或已失效，请重新获取。连续失败{attempts}次将锁定网页登录并短信通知代办户",
                "en": "Wrong or expired code; request a new one. {attempts} failures in a row lock"
                      " the web login; the agent is told by SMS"}
