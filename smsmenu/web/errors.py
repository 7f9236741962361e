"""The portal's own refusals (login, codes, rate limits, roles, CSRF), in the project's error tree.

Their words are the texts' (``[error]`` in ``config/menus/<lang>.toml``), by code, or by
``words`` for a variant that shares its code.
"""

from __future__ import annotations

from smsmenu.core.errors import Conflict, InputError, NotFound, Refused, SmsmenuError


class LoginFailed(Refused):
    """Unknown account or wrong operator password; says no more than that."""

    code = "E_LOGIN"
    http_status = 401
    commit_effects = True


class AgentLoginFailed(LoginFailed):
    """Every refused agent login but a malformed password or a blocked address: unknown account,
    wrong password and locked web login read the same (the agent learns of a lock by SMS)."""

    words = "E_LOGIN_AGENT"


class CodeRefused(Refused):
    """A one-time code that is wrong, expired, used up or never sent."""

    code = "E_CODE"
    commit_effects = True


class RateLimited(Refused):
    code = "E_RATE_LIMIT"
    http_status = 429


class Forbidden(SmsmenuError):
    code = "E_FORBIDDEN"
    http_status = 403


class CsrfFailed(Forbidden):
    code = "E_CSRF"


class PageNotFound(NotFound):
    code = "E_NOT_FOUND"


class FormError(InputError):
    """A form field that is missing or malformed; ``why`` names it in the user's language."""

    code = "E_FORM"


class BadForm(InputError):
    """A POST body that is no readable form: a bad multipart boundary, an unknown charset..."""

    code = "E_BAD_FORM"


class WeakPassword(InputError):
    code = "E_OPERATOR_PASSWORD"


class BadSignature(Forbidden):
    code = "E_SIGNATURE"


class DuplicateOperator(Conflict):
    code = "E_DUPLICATE_OPERATOR"


class OwnAccount(Refused):
    """A supervisor may not deactivate or demote itself: there is always an active supervisor."""

    code = "E_OWN_ACCOUNT"


class LoginCodeRefused(CodeRefused):
    """A refused code login: no live code, a wrong one, or a locked web login read the same."""

    words = "E_CODE_LOGIN"
