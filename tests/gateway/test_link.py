"""The link both transports keep up (smsmenu/gateway/link.py): what a protocol must give."""

from __future__ import annotations

import pytest

from smsmenu.gateway.link import Link


def test_a_link_must_say_how_it_connects_and_says_goodbye() -> None:
    """The shared link is abstract: a protocol without its connect or goodbye cannot be made."""
    class Half(Link):  # type: ignore[type-arg]
        async def _connect_and_serve(self) -> None:
            return None

    with pytest.raises(TypeError, match="_goodbye"):
        Half(object())  # type: ignore[abstract, arg-type]
