"""``twomass tap``: errors a user can act on are one line, exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWOMASS_", "GAVO"))}
    return subprocess.run([sys.executable, "-m", "twomass", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)


def test_publish_without_a_dachs_site_says_how_to_make_one(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "tap", "publish", "dr1", "--settings",
                   str(tmp_path / "missing.rc"))
    assert done.returncode == 2
    assert done.stderr == (f"twomass: error: no DaCHS settings file {tmp_path / 'missing.rc'}: "
                           "`twomass tap init` writes one, or name it with --settings or "
                           "$GAVOSETTINGS\n")

