"""Artifacts around bright stars (``mapcor``): the zones and the artifact/real decision on
hand-placed detections, and the latent images and spikes of an injected Ks 6 star on a
simulated scan, flagged while the real stars near it are not."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from twomass.core import sphere
from twomass.pipeline.sim import quality
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import mapcor, observe, render

STEP = 82.6


def _columns(rows: list[tuple[float, float, float]], band: int = 0) -> dict[str, np.ndarray]:
    """A scan's ``pts`` columns with detections (x_scan, y_scan, mag) in one band."""
    n = len(rows)
    x, y, m = (np.array(c, float) for c in zip(*rows, strict=True))
    cols = {"x_scan": x, "y_scan": y, "cc_flg": np.array(["000"] * n),
            "rd_flg": np.array(["".join("2" if b == band else "0" for b in range(3))] * n)}
    for b, name in enumerate("jhk"):
        cols[f"{name}_m"] = m if b == band else np.full(n, 17.0)
    return cols


def test_zones_and_brightness_decide_the_flags() -> None:
    # A J 7.0 parent at (0, 0): spikes reach 30" + 10" x 3 mag = 60", latents one and two
    # frame steps ahead along the scan (+y).
    rows = [(0.0, 0.0, 7.0),
            (0.5, STEP + 1.0, 14.2),       # latent image, 7.2 mag fainter: artifact
            (-1.0, 2 * STEP - 1.5, 15.0),  # second step
            (1.0, STEP, 10.5),             # a real star where a latent falls: contaminated
            (0.0, -STEP, 14.2),            # behind the parent: no latent there
            (1.5, 40.0, 16.5),             # on the spike along the scan
            (-45.0, -2.0, 16.0),           # on the spike across
            (2.0, -30.0, 12.0),            # a real star on a spike
            (1.0, 70.0, 16.5),             # beyond the spike's reach
            (8.0, 30.0, 16.5),             # beside the spike
            (300.0, 20.0, 16.5)]           # far away
    cols = _columns(rows)
    counts = mapcor.flag_artifacts(cols, STEP)
    flags = [f[0] for f in cols["cc_flg"]]
    assert flags == ["0", "P", "P", "p", "0", "D", "D", "d", "0", "0", "0"]
    assert counts == {"P": 2, "D": 2}
    assert all(f[1:] == "00" for f in cols["cc_flg"])  # other bands untouched


def test_parent_thresholds_per_band() -> None:
    # Ks 9.3: a parent (< 9.5) but too faint for spikes (>= 9.0); J 10.7: not a parent.
    k = _columns([(0.0, 0.0, 9.3), (0.0, STEP, 16.0), (0.0, 20.0, 17.5)], band=2)
    mapcor.flag_artifacts(k, STEP)
    assert [f[2] for f in k["cc_flg"]] == ["0", "P", "0"]
    j = _columns([(0.0, 0.0, 10.7), (0.0, STEP, 17.0)], band=0)
    assert mapcor.flag_artifacts(j, STEP) == {}
    assert list(j["cc_flg"]) == ["000", "000"]


def test_precedence_keeps_the_stronger_flag() -> None:
    cols = _columns([(0.0, 0.0, 7.0), (0.0, STEP, 10.0), (0.0, 30.0, 16.0)])
    cols["cc_flg"] = np.array(["000", "b00", "b00"])
    mapcor.flag_artifacts(cols, STEP)
    assert list(cols["cc_flg"]) == ["000", "p00", "D00"]  # p > b; an artifact beats b


def _flags(rows, band: int, scan_dir: str = "n") -> list[str]:
    cols = _columns(rows, band)
    mapcor.flag_artifacts(cols, STEP, scan_dir)
    return [f[band] for f in cols["cc_flg"]]


def test_glints_at_a_fixed_place_per_band_mirrored_by_the_scan_direction() -> None:
    # Ks 9.2: a parent without spikes, its halo 9.2" wide; the Ks glint 10" across and
    # 9" ahead (north scan) or behind (south scan), within 3", at least 6 mag fainter.
    rows = [(0.0, 0.0, 9.2),
            (12.5, 9.0, 16.3),   # 2.5" from the glint's place: the glint
            (13.5, 9.0, 16.3),   # 3.5" from it
            (10.0, 9.5, 15.1),   # a real star there, 5.9 mag fainter: contaminated
            (10.0, -9.0, 16.3)]  # where the glint falls in a south scan
    assert _flags(rows, 2, "n") == ["0", "G", "0", "c", "0"]
    assert _flags(rows, 2, "s") == ["0", "0", "0", "0", "G"]
    # Each band has its own place: J 7" back across and 12.9" ahead, H 9" and -8".
    j = [(0.0, 0.0, 9.2), (-7.0, 12.9, 16.3), (10.0, 9.0, 16.3)]
    assert _flags(j, 0) == ["0", "G", "0"]
    h = [(0.0, 0.0, 9.2), (-9.0, -8.0, 16.3), (-7.0, 12.9, 16.3)]
    assert _flags(h, 1) == ["0", "G", "0"]


def test_stripes_along_the_row_across_the_whole_scan() -> None:
    # Ks 6.0 (spikes reach 60"): its stripe runs across the scan within 3" of its row,
    # beyond the spikes; a stripe's detection is at least 10 mag fainter than the star.
    rows = [(0.0, 0.0, 6.0),
            (150.0, 1.5, 16.5),    # on the stripe, 10.5 mag fainter: artifact
            (-250.0, -2.5, 16.5),  # the other side, far across
            (150.0, 1.5, 15.0),    # a real star on the stripe: contaminated
            (150.0, 4.0, 16.5),    # off the row
            (59.0, 0.0, 16.5),     # still the spike
            (61.0, 0.0, 16.5)]     # beyond it: the stripe
    assert _flags(rows, 2) == ["0", "C", "C", "s", "0", "D", "C"]
    # Ks 9.2: too faint for spikes, so for stripes.
    assert _flags([(0.0, 0.0, 9.2), (150.0, 0.5, 19.5)], 2) == ["0", "0"]


def test_halo_radius_grows_with_the_parent() -> None:
    # Ks 6.0: halo 8" + 4" x 3.5 mag = 22"; artifacts at least 11 mag fainter.
    rows = [(0.0, 0.0, 6.0),
            (15.0, -10.0, 17.1),  # 18" out, 11.1 mag fainter: artifact
            (15.0, -10.0, 16.9),  # 10.9 mag fainter: a real star in the halo
            (20.0, -10.0, 17.1),  # 22.4" out
            (1.5, 1.5, 17.1)]     # inside 3": not searched (the parent's own core)
    assert _flags(rows, 2) == ["0", "C", "c", "0", "0"]
    # Ks 8.5: 12"
    assert _flags([(0.0, 0.0, 8.5), (8.0, -8.0, 19.6), (8.5, -8.5, 19.6)], 2) == \
        ["0", "C", "0"]


def test_precedence_between_the_new_zones() -> None:
    # Ks 6.0 north scan: its glint (10", 9") lies in its halo (22").
    rows = [(0.0, 0.0, 6.0),
            (10.5, 9.5, 13.1),   # glint (7.1 fainter) beats the halo's contamination
            (10.5, 9.5, 17.5),   # 11.5 fainter: both artifacts, halo confusion ranks first
            (150.0, 0.5, 15.0)]  # stripe contamination
    cols = _columns(rows, 2)
    cols["cc_flg"] = np.array(["000", "00b", "000", "00p"])
    mapcor.flag_artifacts(cols, STEP, "n")
    assert [f[2] for f in cols["cc_flg"]] == ["0", "G", "C", "p"]  # p > s


def test_injected_bright_star_artifacts_on_a_scan(processed) -> None:
    """The J = H = Ks = 6 star injected into the survey scan (b = +6 deg, a dense field):
    its latent images, a frame step ahead along the scan, and every S/N >= 10 detection
    within its spikes' reach that no rendered source explains get an upper-case flag in
    their bands;
    at most 0.5 % of real stars' S/N >= 10 detections do."""
    from tests.stages.conftest import BRIGHT

    pts = pq.read_table(processed.products / "pts.parquet").to_pydict()
    scan = np.flatnonzero(np.asarray(pts["scan"]) == processed.survey_scan)
    ra, dec = np.asarray(pts["ra"])[scan], np.asarray(pts["dec"])[scan]
    cc, rd = np.asarray(pts["cc_flg"])[scan], np.asarray(pts["rd_flg"])[scan]
    x, y = np.asarray(pts["x_scan"])[scan], np.asarray(pts["y_scan"])[scan]
    dx, dy = ((ra - BRIGHT.ra) * np.cos(np.radians(BRIGHT.dec)), dec - BRIGHT.dec)
    parent = np.argmin(np.hypot(dx, dy))
    offset = np.hypot(x - x[parent], y - y[parent])
    truth = processed.truth
    t_vec = sphere.unit_vectors(np.asarray(truth["ra"]), np.asarray(truth["dec"]))
    p_vec = sphere.unit_vectors(ra, dec)
    real = sphere.nearest_within(p_vec, t_vec, 1.0).index >= 0
    unexplained = sphere.nearest_within(p_vec, t_vec, 2.0).index < 0
    latent = np.hypot(x - x[parent], y - y[parent] - STEP) < 4.0
    assert latent.any()
    artifacts = real_detections = flagged_real = 0
    for b, name in enumerate("jhk"):
        detected = np.array([f[b] in "1234" for f in rd])
        snr = np.nan_to_num(np.asarray(pts[f"{name}_snr"], float)[scan])
        upper = np.array([f[b] in "CDGP" for f in cc])
        assert (upper | ~detected)[latent].all()
        artifact = detected & unexplained & (snr >= 10) & (offset > 3.0) \
            & ((offset < mapcor.spike_length(BRIGHT.value, name)) | latent)
        assert upper[artifact].all()
        artifacts += int(artifact.sum())
        real_detections += int((real & detected & (snr >= 10)).sum())
        flagged_real += int((real & detected & (snr >= 10) & upper).sum())
    assert artifacts >= 10
    assert flagged_real <= 0.005 * real_detections


def test_injected_bright_star_glints_stripe_and_halo(processed) -> None:
    """The Ks 6 star on the survey scan: in each band its glint, where the simulator puts
    it in the array (mirrored along: the scan runs south), is an S/N >= 10 detection no
    rendered source explains, flagged G; every such detection on its stripe or in its halo
    (the rendered PSF stamp), both off its spikes, is upper case, and no real S/N >= 10
    star there is."""
    from tests.stages.conftest import BRIGHT

    pts = pq.read_table(processed.products / "pts.parquet").to_pydict()
    scan = np.flatnonzero(np.asarray(pts["scan"]) == processed.survey_scan)
    entry = next(s for s in processed.scans if s.scan == processed.survey_scan)
    sign = 1.0 if entry.sd == "n" else -1.0
    ra, dec = np.asarray(pts["ra"])[scan], np.asarray(pts["dec"])[scan]
    cc, rd = np.asarray(pts["cc_flg"])[scan], np.asarray(pts["rd_flg"])[scan]
    x, y = np.asarray(pts["x_scan"])[scan], np.asarray(pts["y_scan"])[scan]
    parent = np.argmin(np.hypot((ra - BRIGHT.ra) * np.cos(np.radians(BRIGHT.dec)),
                                dec - BRIGHT.dec))
    dx, dy = x - x[parent], y - y[parent]
    truth = processed.truth
    t_vec = sphere.unit_vectors(np.asarray(truth["ra"]), np.asarray(truth["dec"]))
    p_vec = sphere.unit_vectors(ra, dec)
    real = sphere.nearest_within(p_vec, t_vec, 1.0).index >= 0
    unexplained = sphere.nearest_within(p_vec, t_vec, 2.0).index < 0
    r = np.hypot(dx, dy)
    for b, name in enumerate("jhk"):
        detected = np.array([f[b] in "1234" for f in rd])
        snr = np.nan_to_num(np.asarray(pts[f"{name}_snr"], float)[scan])
        letter = np.array([f[b] for f in cc])
        upper = np.isin(letter, list("CDGP"))
        gx, gy = (inst.PIXEL_ARCSEC * v for v in observe.GLINT_OFFSET_PX[b])
        glint = np.hypot(dx - gx, dy - sign * gy) < 3.0
        assert (letter[glint & detected & unexplained & (snr >= 10)] == "G").sum() == 1
        flux = inst.EXPOSURE_SECONDS * 10 ** (-0.4 * (BRIGHT.value - quality.ZERO_POINT[b]))
        halo = inst.PIXEL_ARCSEC * float(render.stamp_radius(np.array([flux]), np.ones(1),
                                                             10.0)[0])
        stripe = (np.abs(dy) < 3.0) & (np.abs(dx) > mapcor.spike_length(BRIGHT.value, name))
        off_spikes = (np.abs(dx) > 3.0) & (np.abs(dy) > 3.0)
        zone = (stripe | ((r < halo) & off_spikes)) & (r > 3.0) & detected & (snr >= 10)
        assert upper[zone & unexplained].all()
        assert not upper[zone & real].any()
