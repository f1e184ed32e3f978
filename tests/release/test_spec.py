"""Release spec files: every value a build cannot use is refused before any SQL runs,
with a message naming the file and the field."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from twomass.cli import main
from twomass.release.spec import RANGES, ReleaseSpec, ReleaseSpecError, load_spec


def _load(tmp_path: Path, text: str) -> ReleaseSpec:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return load_spec(path)


def test_defaults_and_a_valid_file(tmp_path: Path) -> None:
    assert load_spec(None) == ReleaseSpec()
    spec = _load(tmp_path, "psc_match_arcsec = 3\nscan_sensitivity = 'psp'\n"
                           "xsc_artifact_flags = ''\npsc_artifact_pattern = '^[CD]|P$'\n")
    assert spec.psc_match_arcsec == 3.0 and spec.scan_sensitivity == "psp"
    assert spec.xsc_artifact_flags == "" and spec.psc_artifact_pattern == "^[CD]|P$"


def test_every_number_field_has_a_range_holding_its_default() -> None:
    numbers = {f.name for f in fields(ReleaseSpec) if f.type in ("int", "float")}
    assert set(RANGES) == numbers
    for name, bounds in RANGES.items():
        assert getattr(ReleaseSpec(), name) in bounds, name


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "-1", "1e7", "9" * 400])
@pytest.mark.parametrize("name", sorted(RANGES))
def test_numbers_out_of_range_are_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ReleaseSpecError, match=rf"s\.toml: {name} must be "):
        _load(tmp_path, f"{name} = {value}\n")


@pytest.mark.parametrize(("text", "message"), [
    ("prox_start_arcsec = inf", "prox_start_arcsec must be a finite number in [0, 3600] arcsec"),
    ("psc_match_arcsec = 0", "psc_match_arcsec must be a finite number in (0, 60] arcsec"),
    ("xsc_score_max = 0.5", "xsc_score_max must be a finite number in [1, 2], got 0.5"),
    ("min_scan_qual = 11", "min_scan_qual must be in [0, 10], got 11"),
    ("ndet_min_ratio = 1.5", "ndet_min_ratio must be a finite number in [0, 1]"),
    ("psc_edge_arcsec = 'ten'", "psc_edge_arcsec must be a number, got 'ten'"),
    ("min_scan_qual = 4.0", "min_scan_qual must be an integer, got 4.0"),
    ("min_scan_qual = nan", "min_scan_qual must be an integer, got nan"),
    ("virtual_apparitions = 1", "virtual_apparitions must be true or false, got 1"),
    ("psc_artifact_pattern = ''", "psc_artifact_pattern is empty"),
    ("psc_final_artifact_pattern = ''", "psc_final_artifact_pattern is empty"),
    ("psc_artifact_pattern = '[C-'", "psc_artifact_pattern is not a regular expression"),
    ("psc_artifact_pattern = '0'", "matches '000', the flag of a clean source"),
    ("psc_final_artifact_pattern = '.*'", "matches '000', the flag of a clean source"),
    ("psc_artifact_pattern = '[C-P]|'", "matches '000', the flag of a clean source"),
    ("psc_artifact_pattern = '\\\\bC'", "must be a regular expression of cc_flg letters"),
    ("psc_artifact_pattern = '(?P<x>C)'", "must be a regular expression of cc_flg letters"),
    ('psc_artifact_pattern = "C\\u0000"', "must not contain a NUL character"),
    ("xsc_artifact_flags = 'C0'", "xsc_artifact_flags must be XSC cc_flg letters"),
    ("xsc_final_artifact_flags = 'C|D'", "xsc_final_artifact_flags must be XSC cc_flg letters"),
    ("scan_sensitivity = 'luck'", "scan_sensitivity must be one of msnr10, psp"),
    ("no_such_rule = 1", "unknown key(s) no_such_rule"),
    ("= broken", "not valid TOML"),
])
def test_bad_values_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ReleaseSpecError) as caught:
        _load(tmp_path, text + "\n")
    assert str(caught.value).startswith(f"{tmp_path / 's.toml'}: ")
    assert message in str(caught.value)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b"snr_primary = 7\n\xff\xfe\n")
    with pytest.raises(ReleaseSpecError, match=r"s\.toml: not valid TOML: not UTF-8 text"):
        load_spec(path)
    with pytest.raises(ReleaseSpecError, match="cannot read the release spec"):
        load_spec(tmp_path)


def test_a_huge_number_is_shown_short(tmp_path: Path) -> None:
    with pytest.raises(ReleaseSpecError) as caught:
        _load(tmp_path, "min_scan_qual = " + "9" * 400 + "\n")
    assert len(str(caught.value)) < 200 and "(400 characters)" in str(caught.value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ReleaseSpecError) as caught:
        _load(tmp_path, "psc_edge_arcsec = nan\nsnr_primary = inf\n")
    assert "psc_edge_arcsec" in str(caught.value) and "snr_primary" in str(caught.value)


def test_the_python_api_refuses_the_same_values() -> None:
    with pytest.raises(ReleaseSpecError, match="gal_contam_scale must be a finite number"):
        ReleaseSpec(gal_contam_scale=float("nan"))
    assert ReleaseSpec(psc_edge_arcsec=12).psc_edge_arcsec == 12.0


def test_the_cli_refuses_a_bad_spec_before_connecting(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text("snr_primary = nan\n")
    # The database URL points nowhere: the spec is refused before any connection.
    assert main(["--db", "postgresql://nobody@127.0.0.1:1/none", "release", "build", "x",
                 "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"twomass: error: {spec}: snr_primary must be a finite number")
    assert "Traceback" not in err and len(err.splitlines()) == 1
