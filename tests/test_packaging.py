"""The installed package carries every SQL file and migration of the source tree."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("source_dir", "package", "pattern"),
    [
        ("sql", "twomass.sql", "**/*.sql"),
        ("migrations", "twomass.migrations", "**/*.py"),
        ("migrations", "twomass.migrations", "*.mako"),
    ],
)
def test_installed_package_has_source_files(source_dir: str, package: str, pattern: str) -> None:
    wanted = sorted(p.relative_to(SOURCE / source_dir) for p in (SOURCE / source_dir).glob(pattern))
    assert wanted, f"no {pattern} in {source_dir}/"
    installed = files(package)
    missing = [str(p) for p in wanted if not installed.joinpath(*p.parts).is_file()]
    assert missing == []


def test_console_script_is_installed() -> None:
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "twomass"]
    assert script.value == "twomass.cli:main"
