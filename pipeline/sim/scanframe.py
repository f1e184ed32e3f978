"""Scan-frame coordinates and distances to great-circle scan edges.

A 2MASS scan moves along a line of constant RA (its centre meridian ``ra0``). The
natural frame rotates the sphere so that meridian is the equator of a new system:
``xi`` is the cross-scan angle (east positive, degrees) and ``phi`` the latitude along
the meridian (degrees; equal to Dec on the meridian). The U-scan ``x`` of the 2MASS
databases points roughly to negative RA, so ``x_scan = -xi``.
"""

from __future__ import annotations

import numpy as np

from twomass.core import sphere


def to_scan(ra0: np.ndarray | float, ra: np.ndarray, dec: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """(xi, phi) in degrees of positions (ra, dec) relative to meridian ``ra0``."""
    dra = np.radians(np.asarray(ra) - ra0)
    d = np.radians(dec)
    cd = np.cos(d)
    xi = np.arcsin(np.clip(cd * np.sin(dra), -1.0, 1.0))
    phi = np.arctan2(np.sin(d), cd * np.cos(dra))
    return np.degrees(xi), np.degrees(phi)


def to_radec(ra0: np.ndarray | float, xi: np.ndarray | float, phi: np.ndarray | float
             ) -> tuple[np.ndarray, np.ndarray]:
    """(ra, dec) in degrees of scan-frame positions (xi, phi) on meridian ``ra0``."""
    x, p = np.radians(xi), np.radians(phi)
    e1 = np.cos(x) * np.cos(p)  # along the meridian's equator point
    e2 = np.sin(x)  # east
    e3 = np.cos(x) * np.sin(p)  # north
    ra = (np.asarray(ra0) + np.degrees(np.arctan2(e2, e1))) % 360.0
    dec = np.degrees(np.arcsin(np.clip(e3, -1.0, 1.0)))
    return ra, dec


def frame_vectors(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Unit vectors of U-scan positions (x, y) [arcsec], for neighbour searches.

    ``y`` runs along the equator and ``x`` is the latitude, so separations equal those
    of the flat frame to a relative ``1 - cos(x)`` (< 1e-6 for |x| < 300").
    """
    return sphere.unit_vectors(np.asarray(y) / 3600.0, np.asarray(x) / 3600.0)


def edge_distances(ra: np.ndarray, dec: np.ndarray, corners: dict[str, float], sd: str
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distances to a scan's own edges, as the 2MASS ``dist_edge_*`` columns.

    Edges are the great circles through the 3-band corners (1 east at start, 2 west at
    start, 3 east at end, 4 west at end).

    Returns
    -------
    dist_ns, dist_ew
        Integer arcsec (truncated) to the nearest N-or-S and E-or-W edge.
    flg
        Two characters: ``n``/``s`` then ``e``/``w``, the nearer edges.
    """
    normals = sphere.edge_normals(np.array([corners[f"ra_{i}"] for i in (1, 2, 3, 4)]),
                                  np.array([corners[f"dec_{i}"] for i in (1, 2, 3, 4)]))
    p = sphere.unit_vectors(ra, dec)
    start, end, east, west = (np.degrees(np.abs(np.arcsin(np.clip(p @ n, -1.0, 1.0))))
                              for n in normals)
    # Northbound scans start at their southern edge.
    south, north = (start, end) if sd == "n" else (end, start)
    ns = np.minimum(south, north)
    ew = np.minimum(east, west)
    flg_ns = np.where(north < south, "n", "s")
    flg_ew = np.where(east < west, "e", "w")
    flg = np.char.add(flg_ns, flg_ew)
    return (np.floor(ns * 3600.0).astype(np.int32), np.floor(ew * 3600.0).astype(np.int32),
            flg)
