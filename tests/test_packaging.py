"""A plain, non-editable `pip install .` ships the config (demo.toml too), texts, plan, templates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
from smsmenu.core.settings import config_path, load_settings
from smsmenu.core.texts import Texts
from smsmenu.core.types import TargetKind
from ledger.numberplan import NumberPlan
import smsmenu.web, pathlib
settings = load_settings(env={})
assert settings.menu.idle_timeout_s == 180, settings
demo = load_settings(env={}, demo=True)
assert (demo.billing.mode, demo.smpp.simulator, settings.smpp.simulator) == ("sim", True, False)
assert Texts.load().render("zh", "menu.main").startswith("空中充值")
assert NumberPlan.load_default().validate(TargetKind.MOBILE, "18900001111")
templates = pathlib.Path(smsmenu.web.__file__).parent / "templates"
assert any(templates.glob("*.html")), templates
print("ok", config_path("default.toml"))
"""


@pytest.mark.slow
def test_non_editable_install_finds_its_data(tmp_path: Path) -> None:
    """Installed into a bare target directory and run outside the checkout, the data is found."""
    target = tmp_path / "target"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(ROOT)], check=True, cwd=tmp_path,
                   env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert (target / "smsmenu" / "config" / "default.toml").is_file()
    assert (target / "smsmenu" / "config" / "demo.toml").is_file()
    assert (target / "smsmenu" / "config" / "menus" / "zh.toml").is_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}
    code = f"import sys; sys.path.insert(0, {str(target)!r})\n" + PROBE
    done = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout
