"""How many sources the Point and Extended Source Catalogs hold per deg^2, anywhere.

A Bahcall-Soneira-like star-count model: the catalog surface density toward (l, b) is
the line-of-sight integral

    Sigma(l, b) = N0 * sum_i rho(s_i) * Phi(< K_LIM - mu(s_i) - A_K(s_i)) * s_i^2 ds_i

of a Galactic density ``rho`` (thin and thick exponential disks and a power-law halo
in the form and with the structural parameters of Juric et al. 2008, ApJ 673, 864,
plus a boxy Gaussian bar/bulge of the form of Dwek et al. 1995, ApJ 445, 716, model
G2) times the cumulative K-band luminosity function ``Phi`` of the stars bright enough
to reach the catalog limit ``K_LIM`` at distance ``s`` through dust in an exponential
layer. Where stars crowd, the catalog saturates (2MASS is confusion limited in the
inner plane): ``Sigma_cat = Sigma / (1 + Sigma / CONFUSION)``. The stellar systems of
the reference cones, M31 (whose bulge 2MASS resolves into thousands of point sources)
and the open cluster NGC 188, are exponential profiles on top.

The luminosity function is a two-part form chosen here (dwarfs rising 0.17 dex/mag
from M_K -1 to 8, a red-clump and giant-branch bump at M_K -1.6); its shape sets how
counts change with latitude, its scale is absorbed in ``N0``. Fitted to real 2MASS
(see docs/simulator.md): ``N0`` to the high-latitude reference cones, the bulge
amplitude to the all-sky PSC mean 470,992,970 / 41,253 deg^2 = 11,417 per deg^2,
the systems' central densities to their real cones. Galaxies: the XSC density is a
high-latitude value thinned where stars crowd, scaled so that the all-sky XSC : PSC
ratio is the real 1 : 286.
"""

from __future__ import annotations

import functools

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass.core import healpix, sphere

#: Effective Ks limit of the PSC for star counts [mag] (its counts peak at Ks 15-15.5).
K_LIM = 15.5
R_SUN, Z_SUN = 8000.0, 25.0  # pc
THIN = {"h": 300.0, "l": 2600.0}
THICK = {"h": 900.0, "l": 3600.0, "f": 0.12}
HALO = {"f": 0.0051, "q": 0.64, "n": 2.77}
#: Bar/bulge: Dwek G2 scale lengths [pc], bar angle [deg] and (fitted) amplitude
#: relative to the local thin-disk density.
BULGE = {"x0": 1580.0, "y0": 620.0, "z0": 430.0, "angle": 20.0, "f": 100.0}
#: Dust: Ks extinction per pc in the plane at the Sun, scale height and length [pc].
DUST = {"a0": 7.0e-5, "h": 110.0, "l": 3000.0}
#: Catalog saturation density [per deg^2] (fitted to the all-sky mean).
CONFUSION = 145_400.0
#: Local normalisation [catalog stars per deg^2 per unit of the integral] (fitted to
#: the 24 real PSC rows within 300" of (12.3, +3.4), l 123 b -59.4: 1,100 per deg^2).
N0 = 3.1693e-06
#: Stellar systems 2MASS resolves in the reference cones, on top of the Galaxy: an
#: exponential surface density ``centre * exp(-r / scale)`` out to ``reach``. M31's
#: scale follows the real cone's radial profile (250,000 per deg^2 within 100", 13,000
#: at 400-500"); NGC 188's is a compromise for an open cluster with a core and a wide
#: halo. Central densities [per deg^2] fitted to the real cone totals less the
#: Galactic foreground (2,412 - 195 within 500" of M31, 5,014 - 2,176 within 0.5 deg
#: of NGC 188).
SYSTEMS = (
    {"name": "M31", "ra": 10.68479, "dec": 41.26906, "scale_deg": 120.0 / 3600.0,
     "centre": 345_200.0, "reach_deg": 0.3},
    {"name": "NGC 188", "ra": 12.11, "dec": 85.26, "scale_deg": 0.25,
     "centre": 12_160.0, "reach_deg": 1.5},
)
#: XSC density at high latitude where stars are sparse [per deg^2] (the real HCG 7
#: cone holds 23 XSC rows within 20', 66 per deg^2, a galaxy group), and the stellar
#: catalog density that halves it (fitted to the all-sky XSC : PSC ratio 1 : 286).
XSC_HIGH = 70.0
XSC_HALF = 5_270.0

_DIST = np.geomspace(10.0, 60_000.0, 240)  # pc
_DS = np.gradient(_DIST)
_MK = np.linspace(-8.0, 12.0, 401)


@functools.cache
def _cumulative_lf() -> np.ndarray:
    """Phi(< M_K) on ``_MK``, per pc^3 up to a constant."""
    dwarfs = np.where((_MK >= -1.0) & (_MK <= 8.0), 10 ** (0.17 * (_MK - 8.0)), 0.0)
    giants = 0.05 * np.exp(-0.5 * ((_MK + 1.6) / 0.3) ** 2) + np.where(
        (_MK > -6.0) & (_MK < -1.0), 0.01 * 10 ** (0.3 * (_MK + 1.0)), 0.0)
    per_mag = dwarfs + giants
    return np.cumsum(per_mag) * (_MK[1] - _MK[0])


def _densities(glon: np.ndarray, glat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(disk+halo, bulge) density along each line of sight, (n, len(_DIST)), and A_K."""
    lon, lat = np.radians(glon)[:, None], np.radians(glat)[:, None]
    s = _DIST[None, :]
    x = R_SUN - s * np.cos(lat) * np.cos(lon)
    y = -s * np.cos(lat) * np.sin(lon)
    z = s * np.sin(lat) + Z_SUN
    r_cyl = np.hypot(x, y)
    thin = np.exp(-(r_cyl - R_SUN) / THIN["l"] - np.abs(z) / THIN["h"])
    thick = THICK["f"] * np.exp(-(r_cyl - R_SUN) / THICK["l"] - np.abs(z) / THICK["h"])
    halo = HALO["f"] * (R_SUN / np.sqrt(r_cyl**2 + (z / HALO["q"]) ** 2 + 500.0**2)) ** HALO["n"]
    a = np.radians(BULGE["angle"])
    xb = x * np.cos(a) - y * np.sin(a)  # bar frame: x along the bar
    yb = x * np.sin(a) + y * np.cos(a)
    rs = (((xb / BULGE["x0"]) ** 2 + (yb / BULGE["y0"]) ** 2) ** 2
          + (z / BULGE["z0"]) ** 4) ** 0.25
    bulge = BULGE["f"] * np.exp(-0.5 * rs**2)
    dust = DUST["a0"] * np.exp(-np.abs(z) / DUST["h"] - (r_cyl - R_SUN) / DUST["l"])
    a_k = np.cumsum(dust * _DS[None, :], axis=1)
    return thin + thick + halo + bulge, a_k


def galactic_density(glon: np.ndarray, glat: np.ndarray, k_lim: float = K_LIM) -> np.ndarray:
    """Catalog stars per deg^2 from the Galaxy alone toward (l, b) [deg], confusion applied."""
    glon, glat = np.atleast_1d(glon).astype(float), np.atleast_1d(glat).astype(float)
    out = np.empty(len(glon))
    lf = _cumulative_lf()
    for k in range(0, len(glon), 4096):
        rho, a_k = _densities(glon[k:k + 4096], glat[k:k + 4096])
        m_lim = k_lim - 5.0 * np.log10(_DIST / 10.0)[None, :] - a_k
        phi = np.interp(m_lim, _MK, lf)
        out[k:k + 4096] = N0 * (rho * phi * (_DIST**2 * _DS)[None, :]).sum(axis=1)
    return out / (1.0 + out / CONFUSION)


def system_density(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Catalog stars per deg^2 of the resolved stellar systems at (ra, dec) [deg]."""
    ra, dec = np.atleast_1d(ra).astype(float), np.atleast_1d(dec).astype(float)
    xyz = sphere.unit_vectors(ra, dec)
    out = np.zeros(len(ra))
    for system in SYSTEMS:
        r = separation_deg(xyz, system["ra"], system["dec"])
        out += np.where(r <= system["reach_deg"],
                        system["centre"] * np.exp(-r / system["scale_deg"]), 0.0)
    return out


def separation_deg(xyz: np.ndarray, ra: float, dec: float) -> np.ndarray:
    """Angular distance [deg] of unit vectors from (ra, dec)."""
    centre = sphere.unit_vectors(np.array([ra]), np.array([dec]))[0]
    return np.degrees(np.arccos(np.clip(xyz @ centre, -1.0, 1.0)))


def xsc_density(star_density: np.ndarray) -> np.ndarray:
    """XSC sources per deg^2 where the PSC holds ``star_density`` Galactic stars."""
    return XSC_HIGH / (1.0 + np.asarray(star_density) / XSC_HALF)


@functools.cache
def sky_sample(order: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ra, dec, l, b) of the centres of every HEALPix cell of ``order``: an equal-area
    sample of the whole sky (12,288 cells at order 5)."""
    pix = np.arange(12 * 4**order, dtype=np.int64)
    ra, dec = healpix.hpx2ang(pix, order=order)
    g = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, frame="icrs").galactic
    return ra, dec, g.l.deg, g.b.deg
