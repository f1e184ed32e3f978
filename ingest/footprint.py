"""Where extractions lie relative to their scan: the distance outside its quadrilateral.

A scan's 3-band area is the quadrilateral of great circles through its corners
(``ra_1..dec_4``, spec 4.9). An extraction of the scan lies inside it, or outside by a
few arcsec (single-band edge strips, RA tracking excursions); one far outside belongs to
another scan or has a corrupted position.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from twomass.core.sphere import edge_normals, unit_vectors

CORNERS = (1, 2, 3, 4)


def outside_arcsec(scans: pa.Table, rows: pa.Table) -> np.ndarray:
    """Per row of ``rows``, its angular distance outside its scan [arcsec], 0 inside.

    ``rows`` name their scan by number (``scan``); every number must be in ``scans``.
    A scan with degenerate corners measures NaN, which compares as inside.
    """
    numbers = scans.column("scan").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        normals = edge_normals(
            np.stack([scans.column(f"ra_{i}").to_numpy() for i in CORNERS], axis=-1),
            np.stack([scans.column(f"dec_{i}").to_numpy() for i in CORNERS], axis=-1))
    by_number = np.argsort(numbers)
    scan_of_row = by_number[np.searchsorted(numbers, rows.column("scan").to_numpy(),
                                            sorter=by_number)]
    # Scan by scan over the rows in scan order (cheap: writers write them so), so that
    # each scan's rows meet its four normals in one matrix product.
    order = np.argsort(scan_of_row, kind="stable")
    xyz = unit_vectors(rows.column("ra").to_numpy()[order], rows.column("dec").to_numpy()[order])
    bounds = np.searchsorted(scan_of_row[order], np.arange(len(numbers) + 1))
    inside = np.empty(len(xyz))
    for scan in range(len(numbers)):
        part = slice(bounds[scan], bounds[scan + 1])
        inside[part] = (xyz[part] @ normals[scan].T).min(axis=1)
    outside = np.zeros(len(xyz))
    out = inside < 0
    outside[order[out]] = -np.degrees(np.arcsin(np.maximum(inside[out], -1.0))) * 3600.0
    return outside
