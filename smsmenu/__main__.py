"""`python -m smsmenu`: the operator CLI."""

from __future__ import annotations

from smsmenu.cli.entry import main

if __name__ == "__main__":
    raise SystemExit(main())
