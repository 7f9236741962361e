"""The phone's look: the keypad's keys and the stylesheet (kept in code: no package data)."""

from __future__ import annotations

KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"]
_NAMES = {"*": "star", "#": "hash"}


def key_id(key: str) -> str:
    """The widget id of a keypad key: ``key-1`` ... ``key-star``, ``key-hash``."""
    return f"key-{_NAMES.get(key, key)}"


CSS = """
Screen { background: $background; }
.pane-title { text-style: bold; color: $text-muted; padding: 0 1; }
#rack-pane { width: 30; border-right: tall $panel; }
#rack { height: 1fr; background: transparent; }
#rack > ListItem { padding: 0 1; }
#add { margin: 0 0 1 0; }
#phone { width: 40; padding: 0 1; }
#display {
    height: 11; padding: 0 1; border: round $accent; background: $boost;
    border-title-color: $accent; border-subtitle-color: $text-muted;
}
#entry { margin: 0 0 0 0; }
#keypad { grid-size: 3 5; grid-gutter: 0 1; height: 15; }
#keypad > Button { width: 1fr; min-width: 0; height: 3; }
#send { column-span: 2; }
#inbox-pane { width: 1fr; padding: 0 1; }
#inbox { height: 1fr; }
#hex { height: 1fr; border-top: tall $panel; }
.sms { margin: 0 0 1 0; padding: 0 1; border-left: thick $accent; background: $boost; }
"""
