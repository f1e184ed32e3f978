"""The reports in a real browser: headless Chromium lays out each page, reports where
every image landed, and a screenshot shows drawn pixels there.

Two runs over the same window: the first loads a copy of the page with a script added
that, once everything has loaded, writes each image's decoded size and position (and
the page height) into the DOM, which ``--dump-dom`` prints; the second screenshots the
report itself, as a user opens it. Chromium is a test requirement (``.ci/run`` installs
it): without it these tests fail, they never skip.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .helpers import Region

WIDTH_PX = 1200
MEASURE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images].map(img => {
    const r = img.getBoundingClientRect();
    return {complete: img.complete, natural: [img.naturalWidth, img.naturalHeight],
            box: [r.left + scrollX, r.top + scrollY, r.width, r.height]};
  });
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({height: document.documentElement.scrollHeight, images});
  document.body.appendChild(out);
});
</script>"""


def chromium() -> str:
    """The Chromium binary; the test fails without one."""
    found = shutil.which("chromium") or ("/usr/bin/chromium"
                                         if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        pytest.fail("chromium is not installed: `apt-get install chromium` (.ci/run does)")
    return found


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               "--force-device-scale-factor=1", f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.mark.parametrize("kind", ["release", "night"])
def test_report_renders_every_image_in_chromium(region: Region, kind: str,
                                                tmp_path: Path) -> None:
    files = region.release_files if kind == "release" else region.night_files
    page = files.html.read_text(encoding="utf-8")
    figures = json.loads(files.json.read_text())["figures"]

    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = run_chromium(tmp_path / "profile1", "--virtual-time-budget=10000", "--dump-dom",
                       f"--window-size={WIDTH_PX},2000", probe.as_uri()).stdout
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, "the page never finished loading"
    measured = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    images = measured["images"]
    assert len(images) == len(figures)
    for img in images:
        assert img["complete"] and img["natural"][0] > 400 and img["natural"][1] > 200
        assert img["box"][2] > 300 and img["box"][3] > 150  # laid out at a readable size

    shot = tmp_path / "shot.png"
    height = int(measured["height"])
    run_chromium(tmp_path / "profile2", f"--screenshot={shot}",
                 f"--window-size={WIDTH_PX},{height}", files.html.as_uri())
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[0] >= height - 1 and pixels.shape[1] == WIDTH_PX
    for name, img in zip(figures, images, strict=True):
        left, top, width, height = (int(round(v)) for v in img["box"])
        region_px = pixels[top + 2:top + height - 2, left + 2:left + width - 2]
        assert region_px.size, name
        colours = len(np.unique(region_px.reshape(-1, 3), axis=0))
        drawn = (region_px < 200).any(axis=-1).mean()
        assert colours > 16 and drawn > 0.01, f"{name}: {colours} colours, {drawn:.3f} drawn"
    # The summary table rendered above the figures: dark text on the first screen.
    assert (pixels[:200] < 100).any(axis=-1).mean() > 0.001
