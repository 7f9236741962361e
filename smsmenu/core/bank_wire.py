"""The online top-up's signed fields between the portal and the bank (HMAC-SHA256), both sides."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

SIGNATURE = re.compile(r"[0-9a-f]{64}")


def sign(key: bytes, fields: Mapping[str, str]) -> str:
    """HMAC-SHA256 over ``k=v`` pairs sorted by name, the ``sign`` field left out."""
    text = "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sign")
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def verify(key: bytes, fields: Mapping[str, str]) -> bool:
    """True for a well-formed signature (64 lower-case hex digits) over exactly these fields."""
    given = fields.get("sign", "")
    return (isinstance(given, str) and SIGNATURE.fullmatch(given) is not None
            and hmac.compare_digest(sign(key, fields), given))
