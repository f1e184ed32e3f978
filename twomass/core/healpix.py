"""The one module that talks to healpy.

Every spatial row carries ``hpx``: the NESTED HEALPix index at order 29 (the finest
healpy supports, ~0.4" pixels). In the NESTED scheme a pixel's ancestors at coarser
orders are right bit shifts, and the order-29 descendants of a coarse pixel form one
contiguous range, which is what lets a B-tree on ``hpx`` answer spatial queries.
"""

from __future__ import annotations

import healpy as hp
import numpy as np
import numpy.typing as npt

HPX_ORDER = 29
HPX_SCHEME = "NESTED"
HPX_COLUMN = "hpx"
HPX_NSIDE = 1 << HPX_ORDER

#: At most this many index ranges describe a disc (the SQL cone search uses the same bound).
MAX_DISC_RANGES = 16


def ang2hpx(ra_deg: npt.ArrayLike, dec_deg: npt.ArrayLike) -> np.ndarray:
    """Order-29 NESTED index of positions given in degrees (ICRS)."""
    ra = np.asarray(ra_deg, dtype=np.float64)
    dec = np.asarray(dec_deg, dtype=np.float64)
    return np.asarray(hp.ang2pix(HPX_NSIDE, ra, dec, nest=True, lonlat=True), dtype=np.int64)


def hpx2ang(hpx: npt.ArrayLike, order: int = HPX_ORDER) -> tuple[np.ndarray, np.ndarray]:
    """Centre (ra, dec) in degrees of NESTED pixels at ``order``."""
    ra, dec = hp.pix2ang(1 << order, np.asarray(hpx, dtype=np.int64), nest=True, lonlat=True)
    return np.asarray(ra), np.asarray(dec)


def to_order(hpx: npt.ArrayLike, order: int) -> np.ndarray:
    """Ancestor of order-29 pixels at a coarser ``order``: a right shift by 2*(29-order)."""
    if not 0 <= order <= HPX_ORDER:
        raise ValueError(f"HEALPix order must be in [0, {HPX_ORDER}], got {order}")
    return np.asarray(hpx, dtype=np.int64) >> (2 * (HPX_ORDER - order))


def pixel_range(pixel: int, order: int) -> tuple[int, int]:
    """Inclusive order-29 index range of the descendants of one pixel at ``order``."""
    shift = 2 * (HPX_ORDER - order)
    return pixel << shift, ((pixel + 1) << shift) - 1


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort inclusive ranges and merge those that touch or overlap."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def disc_ranges(
    ra_deg: float, dec_deg: float, radius_deg: float, max_ranges: int = MAX_DISC_RANGES
) -> list[tuple[int, int]]:
    """Inclusive order-29 ``hpx`` ranges whose union covers a disc.

    Chooses the finest order at which the covering pixels merge into at most
    ``max_ranges`` ranges, so a query ORs a bounded number of B-tree range scans
    and reads little outside the disc.

    Parameters
    ----------
    ra_deg, dec_deg
        Disc centre in degrees.
    radius_deg
        Disc radius in degrees, >= 0.
    max_ranges
        Upper bound on the number of ranges returned.
    """
    if not radius_deg >= 0:
        raise ValueError(f"radius must be >= 0 degrees, got {radius_deg}")
    if not -90.0 <= dec_deg <= 90.0:
        raise ValueError(f"dec must be in [-90, 90] degrees, got {dec_deg}")
    vec = hp.ang2vec(ra_deg, dec_deg, lonlat=True)
    radius = np.radians(min(radius_deg, 180.0))
    best = [pixel_range(p, 0) for p in range(12)]
    # Smallest order whose pixels are not much smaller than the disc, then refine.
    start = int(np.clip(np.floor(np.log2(np.radians(58.6) / max(radius, 1e-12))), 0, HPX_ORDER))
    for order in range(max(start - 2, 0), HPX_ORDER + 1):
        pixels = hp.query_disc(1 << order, vec, radius, inclusive=True, nest=True)
        ranges = merge_ranges([pixel_range(int(p), order) for p in pixels])
        if len(ranges) > max_ranges:
            break
        best = ranges
        if order >= start + 2:
            break
    return best


def pixel_radius_deg(order: int) -> float:
    """The largest distance [deg] from a pixel's centre to its corners at ``order``."""
    return float(np.degrees(hp.max_pixrad(1 << order)))


def pixels_within(discs: list[tuple[float, float, float]], order: int) -> set[int]:
    """The NESTED pixels of ``order`` that intersect any of the discs (ra, dec, radius),
    all in degrees (a superset: healpy's inclusive query)."""
    nside = 1 << order
    found: set[int] = set()
    for ra, dec, radius in discs:
        vec = hp.ang2vec(ra, dec, lonlat=True)
        found.update(int(p) for p in hp.query_disc(nside, vec, np.radians(min(radius, 180.0)),
                                                   inclusive=True, nest=True))
    return found


def margin_ranges(pixel: int, order: int, margin_deg: float) -> list[tuple[int, int]]:
    """Inclusive order-29 ``hpx`` ranges covering one pixel of ``order`` and every point
    within ``margin_deg`` of it (a superset: whole pixels of a finer order).

    The margin is the union of discs of radius ``margin_deg`` plus the sample spacing,
    centred on points sampled along the pixel's boundary: a point within ``margin_deg``
    of the pixel is within that radius of a sample.
    """
    if not margin_deg > 0:
        raise ValueError(f"margin must be > 0 degrees, got {margin_deg}")
    nside = 1 << order
    size_deg = float(np.degrees(hp.nside2resol(nside)))
    per_edge = max(1, int(np.ceil(size_deg / margin_deg)))
    # (edges are at most about 1.5 times the mean pixel size)
    radius = np.radians(margin_deg + 1.5 * size_deg / per_edge)
    fine = int(np.clip(np.floor(np.log2(np.radians(58.6) / np.radians(margin_deg))),
                       order, HPX_ORDER))
    boundary = np.atleast_2d(hp.boundaries(nside, pixel, step=per_edge, nest=True))
    near: set[int] = set()
    for vec in boundary.T:
        near.update(int(p) for p in hp.query_disc(1 << fine, vec, radius, inclusive=True,
                                                  nest=True))
    return merge_ranges([pixel_range(pixel, order)]
                        + [pixel_range(p, fine) for p in near])


def project_map(pixels: npt.ArrayLike, values: npt.ArrayLike, order: int, *,
                xsize: int = 800, lonra_deg: tuple[float, float] | None = None,
                latra_deg: tuple[float, float] | None = None,
                rot_deg: float = 0.0) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Image of a sparse NESTED map, projected by healpy, for ``imshow(origin="lower")``.

    Only the pixels that hold a value are given, so a map of a small region costs what
    the region holds, not the 12 * 4**order pixels of the whole sky.

    Parameters
    ----------
    pixels, values
        Pixel indices at ``order`` and their values; pixels not listed are NaN.
    order
        HEALPix order of ``pixels``.
    xsize
        Image width [pixels].
    lonra_deg, latra_deg
        Both given: a cartesian (plate carrée) view of that longitude range, relative to
        ``rot_deg``, and latitude range [deg]; otherwise the whole sky in Mollweide.
    rot_deg
        Longitude of the image centre [deg]. Longitude grows to the left (east), as on
        the sky.

    Returns
    -------
    image, extent
        The image (NaN where no pixel or outside the projection) and its extent in the
        projection's plane, for ``imshow``.
    """
    pixels = np.asarray(pixels, dtype=np.int64)
    order_of = np.argsort(pixels)
    sorted_pixels = pixels[order_of]
    lookup = np.append(np.asarray(values, dtype=np.float64)[order_of], np.nan)

    def vec2index(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        pix = hp.vec2pix(1 << order, x, y, z, nest=True)
        pos = np.minimum(np.searchsorted(sorted_pixels, pix), max(len(sorted_pixels) - 1, 0))
        found = (sorted_pixels[pos] == pix) if len(sorted_pixels) else np.zeros(pix.shape, bool)
        return np.where(found, pos, len(sorted_pixels))

    if lonra_deg is not None and latra_deg is not None:
        proj = hp.projector.CartesianProj(rot=(rot_deg, 0.0, 0.0), xsize=xsize,
                                          lonra=list(lonra_deg), latra=list(latra_deg),
                                          flipconv="astro")
    else:
        proj = hp.projector.MollweideProj(rot=(rot_deg, 0.0, 0.0), xsize=xsize,
                                          flipconv="astro")
    image = np.asarray(proj.projmap(lookup, vec2index), dtype=np.float64)
    image[~np.isfinite(image)] = np.nan
    return image, tuple(float(e) for e in proj.get_extent())


def mollweide_xy(ra_deg: npt.ArrayLike, dec_deg: npt.ArrayLike, *,
                 rot_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Positions [deg] in the plane of ``project_map``'s Mollweide image, for overlays
    (graticules, outlines) drawn on it."""
    proj = hp.projector.MollweideProj(rot=(rot_deg, 0.0, 0.0), flipconv="astro")
    x, y = proj.ang2xy(np.asarray(ra_deg, np.float64), np.asarray(dec_deg, np.float64),
                       lonlat=True)
    return np.asarray(x), np.asarray(y)
