"""A plain `pip install .` builds without warnings and ships config, texts, plan, templates, SQL."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Installed:
    """A plain ``pip install --target`` of the checkout: where it went and what the build printed."""

    target: Path
    output: str


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build and install the checkout once (verbose, so the build backend's warnings are shown)."""
    work = tmp_path_factory.mktemp("install")
    target = work / "target"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-v", "--no-deps",
                           "--target", str(target), str(ROOT)], cwd=work, capture_output=True, text=True,
                          env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    return Installed(target, done.stdout + done.stderr)


@pytest.mark.slow
def test_non_editable_install_finds_its_data(installed: Installed, tmp_path: Path) -> None:
    """Installed into a bare target directory and run outside the checkout, the data is found."""
    target = installed.target
    assert (target / "smsmenu" / "config" / "default.toml").is_file()
    assert (target / "smsmenu" / "config" / "demo.toml").is_file()
    assert (target / "smsmenu" / "config" / "menus" / "zh.toml").is_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}
    code = f"import sys; sys.path.insert(0, {str(target)!r})\n" + PROBE
    done = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout


@pytest.mark.slow
def test_build_prints_no_backend_warning(installed: Installed) -> None:
    """The build warns about nothing (every data folder is a listed package, LICENSE is found)."""
    assert "Successfully installed smsmenu" in installed.output
    assert "BuildBackendWarning" not in installed.output, installed.output
    assert "SetuptoolsDeprecationWarning" not in installed.output, installed.output


@pytest.mark.slow
def test_install_ships_every_data_folder_of_the_checkout(installed: Installed) -> None:
    """Every migration, menu and web text, card menu, template, style sheet and the LICENSE ship."""
    shipped = {
        "ledger/store/migrations/sqlite": ("ledger/store/migrations/sqlite", "*.sql"),
        "smsmenu/config/menus": ("config/menus", "*.toml"),
        "smsmenu/config/web": ("config/web", "*.toml"),
        "smsmenu/config/card": ("config/card", "*.toml"),
        "smsmenu/config": ("config", "*.toml"),
        "smsmenu/web/templates": ("smsmenu/web/templates", "*.html"),
        "smsmenu/web/static": ("smsmenu/web/static", "*.css"),
    }
    for where, (source, pattern) in shipped.items():
        expected = sorted(path.name for path in (ROOT / source).glob(pattern))
        assert expected, source
        assert sorted(path.name for path in (installed.target / where).glob(pattern)) == expected, where
    licenses = list(installed.target.glob("smsmenu-*.dist-info/licenses/LICENSE"))
    assert licenses and "Apache License" in licenses[0].read_text(), licenses
