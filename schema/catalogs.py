"""Column metadata of the release catalogs: unit, UCD and description of every column.

The one definition of what each column of ``psc``, ``xsc``, ``scan_info`` and the reject
tables means. The release build writes it into the database as column comments, and the
cone search puts it on every column of its astropy Table, so a VOTable carries it. A
column missing here fails the tests that compare these lists with a built release.

Units are VOUnit strings (astropy parses them with ``format="vounit"``); ``''`` marks a
dimensionless number or a code, and a quantity whose unit VOUnit lacks (percent, degree
Celsius, a logarithm) says its unit in the description instead. UCDs are IVOA UCD1+
words, following what VizieR and IRSA publish for 2MASS where one is published.
Descriptions paraphrase the 2MASS Explanatory Supplement (sec. 2.2a, 4.5, 6.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogColumn:
    """What one catalog column holds.

    Attributes
    ----------
    name
        Column name, as in the release tables.
    unit
        VOUnit string; ``''`` when dimensionless or not a quantity.
    ucd
        IVOA UCD1+ of the column.
    description
        One line saying what the value is.
    """

    name: str
    unit: str
    ucd: str
    description: str

    @property
    def comment(self) -> str:
        """The database column comment: description, ``[unit]`` as in ``wdb``, UCD."""
        unit = f" [{self.unit}]" if self.unit else ""
        return f"{self.description}{unit}; UCD {self.ucd}"


#: Band prefix -> (band name in descriptions, UCD word of the band).
BANDS = {"j": ("J", "em.IR.J"), "h": ("H", "em.IR.H"), "k": ("Ks", "em.IR.K")}


def _c(name: str, unit: str, ucd: str, description: str) -> CatalogColumn:
    return CatalogColumn(name, unit, ucd, description)


def _per_band(name: str, unit: str, ucd: str, description: str) -> list[CatalogColumn]:
    """One column per band J, H, Ks: ``{b}`` in ``name``, ``{band}`` in ``description``
    and ``{em}`` in ``ucd`` are the band's prefix, name and UCD word."""
    return [_c(name.format(b=b), unit, ucd.format(em=em), description.format(band=band))
            for b, (band, em) in BANDS.items()]


def _interleave(*groups: list[CatalogColumn]) -> list[CatalogColumn]:
    """Per-band groups as J columns, then H, then Ks (``j_m, j_msig, h_m, h_msig, ...``)."""
    return [column for per_band in zip(*groups, strict=True) for column in per_band]


def _photometry(suffix: str, what: str, flag: bool = False) -> list[CatalogColumn]:
    """Magnitude, uncertainty (and confusion flag) columns of one XSC aperture."""
    groups = [_per_band(f"{{b}}_m_{suffix}", "mag", "phot.mag;{em}", f"{{band}} {what}"),
              _per_band(f"{{b}}_msig_{suffix}", "mag", "stat.error;phot.mag;{em}",
                        f"{{band}} 1-sigma uncertainty of m_{suffix}")]
    if flag:
        groups.append(_per_band(f"{{b}}_flg_{suffix}", "", "meta.code;{em}",
                                f"{{band}} confusion flag of m_{suffix}: 0 clean, 1-7 "
                                "masked pixels of a kind, 9 negative flux"))
    return _interleave(*groups)


def _by_name(columns: Iterable[CatalogColumn]) -> dict[str, CatalogColumn]:
    return {c.name: c for c in columns}


# Columns shared by the catalogs, with the meaning they have in all of them.
_SHARED = _by_name([
    _c("designation", "", "meta.id;meta.main",
       "source name hhmmssss+ddmmsss[suffix], to follow 2MASS J in the full name"),
    _c("hemis", "", "meta.id;instr.obsty", "observatory: n = Mt. Hopkins, s = Cerro Tololo"),
    _c("date", "", "time.epoch;obs", "observation reference date (UT date at sunrise)"),
    _c("scan", "", "meta.id;obs", "nightly scan number, unique within date and hemis"),
    _c("scan_key", "", "meta.id.cross", "scan_key of the scan in scan_info"),
    _c("coadd", "", "meta.id.part", "Atlas Image sequence number within the scan"),
    _c("coadd_key", "", "meta.id.cross", "Atlas Image key: scan_key * 1000 + coadd"),
    _c("glon", "deg", "pos.galactic.lon", "Galactic longitude"),
    _c("glat", "deg", "pos.galactic.lat", "Galactic latitude"),
    _c("dist_edge_ns", "arcsec", "pos.angDistance",
       "distance to the nearest N or S edge of the scan"),
    _c("dist_edge_ew", "arcsec", "pos.angDistance",
       "distance to the nearest E or W edge of the scan"),
    _c("dist_edge_flg", "", "meta.code", "nearest edges: n or s, then e or w"),
    _c("dup_src", "", "meta.code",
       "duplicate resolution: 0 no match in an overlapping scan, 1 matched, >1 confused"),
    _c("use_src", "", "meta.code",
       "1 = the apparition kept in duplicate resolution (NULL for a row that never "
       "reached it)"),
    _c("mp_flg", "", "meta.code",
       "1 = at the predicted position of a known solar-system object"),
    _c("pxpa", "deg", "pos.posAng", "position angle, E of N, to the nearest neighbour"),
    _c("hpx", "", "pos.healpix", "HEALPix NESTED order-29 index of (ra, dec)"),
])


def _shared(*names: str) -> list[CatalogColumn]:
    return [_SHARED[n] for n in names]


#: Point Source Catalog, in the 2MASS All-Sky column order, then hpx.
PSC: tuple[CatalogColumn, ...] = (
    _c("ra", "deg", "pos.eq.ra;meta.main", "right ascension, ICRS (J2000)"),
    _c("dec", "deg", "pos.eq.dec;meta.main", "declination, ICRS (J2000)"),
    _c("err_maj", "arcsec", "phys.angSize.smajAxis;pos.errorEllipse",
       "1-sigma position-error ellipse semi-major axis"),
    _c("err_min", "arcsec", "phys.angSize.sminAxis;pos.errorEllipse",
       "1-sigma position-error ellipse semi-minor axis"),
    _c("err_ang", "deg", "pos.posAng;pos.errorEllipse",
       "position angle of the error ellipse major axis, E of N"),
    _SHARED["designation"],
    *_interleave(
        _per_band("{b}_m", "mag", "phot.mag;{em}",
                  "{band} default magnitude, or 95% upper limit (see rd_flg)"),
        _per_band("{b}_cmsig", "mag", "stat.error;phot.mag;{em}",
                  "{band} corrected photometric uncertainty (NULL for an upper limit)"),
        _per_band("{b}_msigcom", "mag", "stat.error;phot.mag;{em}",
                  "{band} total photometric uncertainty (NULL for an upper limit)"),
        _per_band("{b}_snr", "", "stat.snr;{em}", "{band} scan signal-to-noise ratio"),
    ),
    _c("ph_qual", "", "meta.code.qual",
       "photometric quality per band JHKs: A, B, C, D best to worst, E, F, U, X"),
    _c("rd_flg", "", "meta.code",
       "read flag per band JHKs: origin of the default magnitude (0 upper limit, "
       "1-3 best, 4, 6, 9)"),
    _c("bl_flg", "", "meta.code", "blend flag per band JHKs: number of components fit"),
    _c("cc_flg", "", "meta.code",
       "contamination and confusion flag per band JHKs: p, c, d, s, b, 0 = none"),
    _c("ndet", "", "meta.code",
       "frame detections per band JHKs: frames detected, then frames possible"),
    _c("prox", "arcsec", "pos.angDistance", "distance to the nearest other PSC source"),
    _SHARED["pxpa"],
    _c("pxcntr", "", "meta.id.cross", "pts_key of the nearest other PSC source"),
    _c("gal_contam", "", "meta.code",
       "extended-source contamination: 0 none, 1 is an XSC source, 2 inside an XSC "
       "source's ellipse"),
    _SHARED["mp_flg"],
    _c("pts_key", "", "meta.id", "unique key of the point source row"),
    *_shared("hemis", "date", "scan", "glon", "glat"),
    _c("x_scan", "arcsec", "pos.cartesian.x;instr.fov",
       "mean cross-scan focal-plane position (U-scan x)"),
    _c("jdate", "d", "time.epoch", "Julian Date of the measurement"),
    *_per_band("{b}_psfchi", "", "stat.fit.chi2;{em}",
               "{band} reduced chi-squared of the profile fit"),
    *_interleave(
        _per_band("{b}_m_stdap", "mag", "phot.mag;{em}",
                  "{band} 4-arcsec standard-aperture magnitude"),
        _per_band("{b}_msig_stdap", "mag", "stat.error;phot.mag;{em}",
                  "{band} standard-aperture magnitude uncertainty"),
    ),
    *_shared("dist_edge_ns", "dist_edge_ew", "dist_edge_flg", "dup_src", "use_src"),
    _c("a", "", "meta.code", "optical association: T = Tycho-2, U = USNO-A2.0, 0 = none"),
    _c("dist_opt", "arcsec", "pos.angDistance", "distance to the associated optical source"),
    _c("phi_opt", "deg", "pos.posAng",
       "position angle, E of N, to the associated optical source"),
    _c("b_m_opt", "mag", "phot.mag;em.opt.B", "blue magnitude of the optical counterpart"),
    _c("vr_m_opt", "mag", "phot.mag;em.opt.R",
       "visual or red magnitude of the optical counterpart"),
    _c("nopt_mchs", "", "meta.number", "number of optical sources within 5 arcsec"),
    _c("ext_key", "", "meta.id.cross", "ext_key of the matching XSC source (NULL if none)"),
    *_shared("scan_key", "coadd_key", "coadd", "hpx"),
)

#: Extended Source Catalog (the key XSC columns of the All-Sky release), then hpx.
XSC: tuple[CatalogColumn, ...] = (
    _c("ext_key", "", "meta.id", "unique key of the extended source row"),
    _SHARED["designation"],
    _c("jdate", "d", "time.epoch", "Julian Date of the measurement"),
    _c("pts_key", "", "meta.id.cross", "pts_key of the matching PSC source (NULL if none)"),
    _c("night_key", "", "meta.id.cross", "working-database night of the scan"),
    *_shared("scan_key", "coadd_key", "hemis", "date", "scan", "coadd"),
    _c("id", "", "meta.id", "extended-source id, unique within the scan"),
    _c("x_coadd", "pix", "pos.cartesian.x;instr.det", "x position on the Atlas Image"),
    _c("y_coadd", "pix", "pos.cartesian.y;instr.det", "y position on the Atlas Image"),
    _c("ra", "deg", "pos.eq.ra;meta.main", "peak-pixel right ascension, ICRS (J2000)"),
    _c("dec", "deg", "pos.eq.dec;meta.main", "peak-pixel declination, ICRS (J2000)"),
    _c("sup_ra", "deg", "pos.eq.ra", "super-coadd centroid right ascension, ICRS (J2000)"),
    _c("sup_dec", "deg", "pos.eq.dec", "super-coadd centroid declination, ICRS (J2000)"),
    *_shared("glon", "glat"),
    _c("density", "", "phys.density",
       "log10 of the density of Ks < 14 mag stars in the coadd, in stars per deg^2"),
    _c("r_k20fe", "arcsec", "phys.angSize;src",
       "semi-major axis of the Ks 20 mag/arcsec^2 isophotal fiducial ellipse"),
    *_photometry("k20fe", "magnitude in the Ks 20 mag/arcsec^2 fiducial ellipse", flag=True),
    *_photometry("7", "7-arcsec-radius circular-aperture magnitude"),
    _c("r_3sig", "arcsec", "phys.angSize;src", "Ks 3-sigma isophote semi-major axis"),
    *_interleave(
        _per_band("{b}_ba", "", "phys.size.axisRatio;{em}",
                  "{band} minor/major axis ratio at the 3-sigma isophote"),
        _per_band("{b}_phi", "deg", "pos.posAng;{em}",
                  "{band} position angle of the major axis, E of N"),
    ),
    _c("sup_ba", "", "phys.size.axisRatio", "super-coadd minor/major axis ratio"),
    _c("sup_phi", "deg", "pos.posAng", "super-coadd position angle of the major axis, E of N"),
    _c("r_ext", "arcsec", "phys.angSize;src", "extrapolated total-magnitude radius"),
    *_photometry("ext", "extrapolated total magnitude"),
    _c("e_score", "", "src.class", "extended score: 1 = extended ... 2 = point-like"),
    _c("g_score", "", "src.class.starGalaxy", "galaxy score: 1 = galaxy ... 2 = not"),
    _c("vc", "", "meta.code.qual", "visual verification score"),
    _c("cc_flg", "", "meta.code",
       "contamination flag: 0 clean, a artifact, z near a large galaxy, Z from the Large "
       "Galaxy Atlas"),
    *_shared("dup_src", "use_src"),
    _c("prox", "arcsec", "pos.angDistance", "distance to the nearest other XSC source"),
    _SHARED["pxpa"],
    _c("pxcntr", "", "meta.id.cross", "ext_key of the nearest other XSC source"),
    *_shared("dist_edge_ns", "dist_edge_ew", "dist_edge_flg", "mp_flg", "hpx"),
)


def _corners() -> list[CatalogColumn]:
    where = {1: "east corner at scan start", 2: "west corner at scan start",
             3: "east corner at scan end", 4: "west corner at scan end"}
    return [column for i, text in where.items() for column in (
        _c(f"ra_{i}", "deg", "pos.eq.ra", f"RA of the 3-band covered area, {text}"),
        _c(f"dec_{i}", "deg", "pos.eq.dec", f"Dec of the 3-band covered area, {text}"))]


#: Scan Information Table: one row per scan of the release.
SCAN_INFO: tuple[CatalogColumn, ...] = (
    _c("scan_key", "", "meta.id;meta.main", "unique key of the scan"),
    *_shared("hemis", "date", "scan"),
    _c("tile", "", "meta.id;obs.field", "planned tile id the scan observed"),
    _c("ra", "deg", "pos.eq.ra;meta.main",
       "scan centre right ascension, from the interior corners, ICRS (J2000)"),
    _c("dec", "deg", "pos.eq.dec;meta.main",
       "scan centre declination, from the interior corners, ICRS (J2000)"),
    *_shared("glon", "glat"),
    *_corners(),
    _c("sd", "", "meta.code",
       "scan direction: n = starts south, moves north; s = starts north, moves south"),
    _c("qual", "", "meta.code.qual", "QA quality score, 0 (worst) to 10 (best)"),
    _c("hgl", "", "meta.code.qual", "1 = single-frame H-band electronic glitch"),
    _c("cld", "", "meta.code.qual", "1 = clouds found"),
    _c("xph", "", "meta.code.qual", "1 = other (non-cloud) photometric problem"),
    _c("anom", "", "meta.code.qual", "1 = unusual Atlas Image problem"),
    _c("ut", "h", "time.start", "UT at scan start"),
    _c("jdate", "d", "time.start", "Julian Date at scan start"),
    _c("airm", "", "obs.airMass", "airmass at scan start"),
    _c("zd", "deg", "pos.az.zd", "zenith distance at scan start"),
    _c("ha", "h", "pos.eq.ha", "hour angle at scan start"),
    _c("rh", "", "obs.atmos.humidity", "enclosure relative humidity, in percent"),
    _c("air_temp", "", "phys.temperature;obs.atmos", "air temperature, in degrees Celsius"),
    _c("tel_temp", "", "phys.temperature;instr.tel",
       "telescope girdle temperature, in degrees Celsius"),
    _c("focus", "um", "instr.param", "focus setting"),
    _c("hry", "", "meta.code", "1 = new H-array configuration"),
    _c("c_strat", "", "meta.code", "calibration strategy flag of the night"),
    *_per_band("{b}_zp_ap", "mag", "phot.mag;arith.zp;{em}",
               "{band} aperture-photometry zero point"),
    *_per_band("{b}_zperr_ap", "mag", "stat.error;arith.zp;{em}", "{band} zero-point RMS"),
    *_per_band("{b}_n_snr10", "", "meta.number;{em}",
               "number of {band} point sources with S/N > 10"),
    _c("n_ext", "", "meta.number", "number of extended sources in the scan"),
    *_per_band("{b}_shape_avg", "", "instr.obsty.seeing;{em}",
               "mean {band} seeing shape (FWHM proxy)"),
    *_per_band("{b}_shape_rms", "", "stat.rms;instr.obsty.seeing;{em}",
               "RMS of the {band} seeing shape"),
    *_per_band("{b}_2mrat", "", "instr.obsty.seeing;{em}",
               "mean {band} 2nd-moment image ratio"),
    *_per_band("{b}_psp", "", "instr.sensitivity;{em}",
               "{band} photometric sensitivity parameter, seeing shape x background^0.29"),
    *_per_band("{b}_pts_noise", "", "instr.det.noise;{em}",
               "log10 of the mode of the {band} noise distribution"),
    *_per_band("{b}_msnr10", "mag", "phot.mag;instr.sensitivity;{em}",
               "{band} magnitude at which S/N = 10 in this scan"),
    _SHARED["hpx"],
)

#: Point Source Reject Table: the PSC columns and the first rule the row failed.
PSC_REJECT: tuple[CatalogColumn, ...] = (*PSC, _c(
    "reject_reason", "", "meta.code",
    "first release rule the row failed: scan_not_selected, edge, artifact, no_valid_band, "
    "snr, psfchi, ndet, duplicate, artifact_final"))
#: Extended Source Reject Table: the XSC columns and the first rule the row failed.
XSC_REJECT: tuple[CatalogColumn, ...] = (*XSC, _c(
    "reject_reason", "", "meta.code",
    "first release rule the row failed: scan_not_selected, edge, artifact, snr, "
    "not_extended, duplicate, artifact_final"))

#: The working-database point extractions (``wdb.pts``), as ``wdb_cone`` returns them:
#: the PSC columns they share, plus the extraction's own keys and band-merge counts.
_WDB_COLUMNS = _by_name(PSC) | _by_name([
    _c("scan_key", "", "meta.id.cross", "scan that made the extraction (wdb.scan)"),
    _c("id", "", "meta.id", "source id, unique within the scan"),
    _c("cnf_flg", "", "meta.code",
       "band-merge confusion counts: #H and #Ks for a J seed, #J and #Ks for an H seed, "
       "#J and #H for a Ks seed"),
    _c("y_scan", "arcsec", "pos.cartesian.y;instr.fov",
       "in-scan position from the scan start (U-scan y)"),
    *_per_band("{b}_msig", "mag", "stat.error;phot.mag;{em}",
               "{band} measurement uncertainty before correction, tested by the S/N rule"),
])
WDB_PTS: tuple[CatalogColumn, ...] = tuple(
    _WDB_COLUMNS[name] for name in """
    scan_key id ra dec hpx err_maj err_min err_ang j_m j_cmsig j_msigcom j_snr
    h_m h_cmsig h_msigcom h_snr k_m k_cmsig k_msigcom k_snr rd_flg bl_flg cc_flg ndet
    cnf_flg mp_flg x_scan y_scan jdate j_psfchi h_psfchi k_psfchi j_m_stdap h_m_stdap
    k_m_stdap j_msig_stdap h_msig_stdap k_msig_stdap dist_edge_ns dist_edge_ew
    dist_edge_flg coadd a dist_opt phi_opt b_m_opt vr_m_opt nopt_mchs
    j_msig h_msig k_msig""".split())

#: The column a cone search adds to the rows it returns.
DIST_ARCSEC = _c("dist_arcsec", "arcsec", "pos.angDistance", "distance to the search centre")

#: Release relation -> its columns, in table order.
RELEASE_TABLES: dict[str, tuple[CatalogColumn, ...]] = {
    "psc": PSC, "xsc": XSC, "scan_info": SCAN_INFO,
    "psc_reject": PSC_REJECT, "xsc_reject": XSC_REJECT,
}

#: Release relation -> table comment.
TABLE_DESCRIPTIONS: dict[str, str] = {
    "psc": "Point Source Catalog: one row per released point source.",
    "xsc": "Extended Source Catalog: one row per released extended source.",
    "scan_info": "Scan Information Table: one row per scan of the release.",
    "psc_reject": "Point Source Reject Table: every working point extraction not in psc, "
                  "with the first rule it failed.",
    "xsc_reject": "Extended Source Reject Table: every working extended extraction not in "
                  "xsc, with the first rule it failed.",
}
