"""The reports as files: self-contained HTML whose images decode and show something, the
same images as PNG files, and a JSON that strict parsers read."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .helpers import Region

DATA_URI = re.compile(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')
#: A chart has axes, text and data in several colours; a blank or one-colour image fails.
MIN_COLOURS = 16


def decoded(png: bytes) -> np.ndarray:
    """The PNG's pixels as an (h, w, 4) array."""
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGBA"))


def assert_not_blank(pixels: np.ndarray) -> None:
    h, w, _ = pixels.shape
    assert h >= 200 and w >= 400
    colours = np.unique(pixels.reshape(-1, 4), axis=0)
    assert len(colours) > MIN_COLOURS
    # Not a white page with a frame: a fair share of pixels is drawn.
    assert (pixels[..., :3] < 200).any(axis=-1).mean() > 0.01


@pytest.mark.parametrize("kind", ["release", "night"])
def test_html_images_decode_and_match_the_png_files(region: Region, kind: str) -> None:
    files = region.release_files if kind == "release" else region.night_files
    png_dir = region.release_png if kind == "release" else region.night_png
    page = files.html.read_text(encoding="utf-8")
    doc = json.loads(files.json.read_text())
    embedded = [base64.b64decode(m) for m in DATA_URI.findall(page)]
    assert len(embedded) == len(doc["figures"]) == page.count("<img ")
    expected = {"release": {"coverage", "density", "depth", "overlap_repeatability",
                            "overlap_astrometry", "rejects", "scan_choice", "nights",
                            "truth_completeness_reliability", "truth_astrometry"},
                "night": {"coverage", "density", "depth", "photometry", "conditions"}}[kind]
    assert set(doc["figures"]) == expected
    for name, png in zip(doc["figures"], embedded, strict=True):
        assert_not_blank(decoded(png))
        assert (png_dir / f"{name}.png").read_bytes() == png


@pytest.mark.parametrize("kind", ["release", "night"])
def test_html_is_self_contained(region: Region, kind: str) -> None:
    files = region.release_files if kind == "release" else region.night_files
    page = files.html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert "http://" not in page and "https://" not in page
    assert '<table id="summary">' in page


def test_json_is_strict(region: Region) -> None:
    for path in (region.release_files.json, region.night_files.json):
        # No NaN or Infinity: strict parsers refuse them.
        json.loads(Path(path).read_text(), parse_constant=_refuse)


def _refuse(name: str) -> None:
    raise AssertionError(f"non-JSON constant {name}")
