"""The scan's QA score (``qascore``): the mapping of measures to factors as a truth
table, and on the shared simulated scan a normal score that falls when the same
inputs show worse seeing, more noise or a tracking jump."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow.parquet as pq
import pytest

from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import qascore, scanmeta

NORMAL = qascore.ScanMeasures(
    depth_margin_mag=0.5, registration_px=0.05, largest_jump_arcsec=0.8, noise_ratio=1.05,
    standards_rms_mag=0.03, standards_offset_mag=0.01, zero_point_error_mag=np.nan,
    overlap_rms_mag=np.nan, seeing_shape=1.0, background_ratio=1.0, background_spread=0.05,
    astrometry_rms_arcsec=0.1, masked_fraction=0.002)


@pytest.mark.parametrize(("value", "expected"), [
    (0.0, 1.0), (0.15, 1.0), (0.325, 0.5), (0.5, 0.0), (3.0, 0.0), (np.nan, 1.0)])
def test_ramp(value, expected) -> None:
    assert qascore.ramp(value, 0.15, 0.5) == pytest.approx(expected)


@pytest.mark.parametrize(("rms", "expected"), [
    (0.03, 1.0), (0.06, 0.7), (0.08, 0.4), (0.12, 0.0), (np.nan, 1.0)])
def test_overlap_steps(rms, expected) -> None:
    assert qascore.overlap_factor(rms) == expected


@pytest.mark.parametrize(("change", "aspect", "qual"), [
    ({}, None, 10),
    ({"depth_margin_mag": 0.2}, "sensitivity", 8),  # 2MASS's steps: 0.1-0.3 mag -> 0.8
    ({"depth_margin_mag": -0.5}, "sensitivity", 1),
    ({"registration_px": 0.325}, "tracking", 5),
    ({"largest_jump_arcsec": 20.0}, "tracking", 0),
    ({"noise_ratio": 1.65}, "noise", 5),
    ({"standards_rms_mag": 0.09}, "photometry", 5),  # 2MASS: 2 - 0.09 / 0.06
    ({"zero_point_error_mag": 0.06}, "photometry", 5),
    ({"overlap_rms_mag": 0.06}, "overlaps", 7),
    ({"seeing_shape": 1.65}, "seeing", 5),
    ({"background_ratio": 4.5}, "background", 5),
    ({"background_spread": 0.9}, "background", 0),
    ({"astrometry_rms_arcsec": 0.65}, "astrometry", 5),
    ({"masked_fraction": 0.2}, "transients", 0),
    # Two spoilt aspects compound: 10 x 0.5 x 0.4.
    ({"noise_ratio": 1.65, "seeing_shape": 1.72}, "noise", 2),
])
def test_score_truth_table(change, aspect, qual) -> None:
    result = qascore.score(dataclasses.replace(NORMAL, **change))
    assert result.qual == qual
    below = {a for a, f in result.factors.items() if f < 1.0}
    if len(change) == 1:
        assert below == {aspect}
    elif change:
        assert below == {"noise", "seeing"}


def _inputs(processed):
    results = [processed.results[b] for b in inst.BANDS]
    std = pq.read_table(processed.night / "ref" / "standards.parquet").to_pydict()
    ra0 = next(s.ra0 for s in processed.scans if s.scan == processed.survey_scan)
    depth = np.array([scanmeta.band_depth(r.sources) for r in results])
    standards = [scanmeta.standards_offset(r.sources.ra, r.sources.dec, r.sources.mag,
                                           r.sources.snr, std, band, ra0)
                 for band, r in zip(inst.BANDS, results, strict=True)]
    return results, depth, standards


def test_simulated_scan_scores_high_and_degraded_copies_lower(processed) -> None:
    """The shared scan (normal conditions): every measure in the range where its factor
    is 1 or near it, and the score the products carry. The same inputs with the seeing
    made 1.8 x worse, the frames' noise 1.8 x higher (as the scan's noise measures it),
    or the frames after the middle displaced by a 10" tracking jump score lower."""
    results, depth, standards = _inputs(processed)
    measures = qascore.measure(results, depth, standards)
    assert measures.registration_px < 0.15
    assert measures.largest_jump_arcsec < 2.0
    assert 0.8 < measures.noise_ratio < 1.3
    assert measures.seeing_shape < 1.3
    assert measures.astrometry_rms_arcsec < 0.3
    assert measures.masked_fraction < 0.02
    assert measures.standards_offset_mag < 0.05
    normal = qascore.score(measures)
    assert normal.qual >= 8
    scans = pq.read_table(processed.products / "scans.parquet").to_pydict()
    assert scans["qual"] == [normal.qual]

    def degraded(**band_change) -> int:
        changed = [dataclasses.replace(r, **{k: f(r) for k, f in band_change.items()})
                   for r in results]
        return qascore.score(qascore.measure(changed, depth, standards)).qual

    def jump(r):
        off = np.array(r.reg.offset_arcsec, float)
        off[len(off) // 2:, 1] += 10.0
        return dataclasses.replace(r.reg, offset_arcsec=off)

    assert degraded(seeing=lambda r: 1.8 * r.seeing) < normal.qual
    assert degraded(cal=lambda r: dataclasses.replace(r.cal, noise=1.8 * r.cal.noise)) \
        < normal.qual
    assert degraded(reg=jump) < normal.qual
