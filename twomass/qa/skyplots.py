"""Sky figures: the coverage MOC (mocpy) and source-density maps (healpy projections).

Small regions get a gnomonic view of the MOC and a cartesian zoom of the density;
every region also gets the whole-sky Mollweide view, which shows where it lies.
"""

from __future__ import annotations

from collections.abc import Sequence

import astropy.units as u
import numpy as np
from matplotlib.colors import ListedColormap, LogNorm

from twomass.core.healpix import hpx2ang, mollweide_xy, project_map
from twomass.qa.coverage import SKY_DEG2, Coverage
from twomass.qa.plots import new_figure, no_data, to_png

#: Coverage below this is drawn in a gnomonic (tangent-plane) view, above it on the
#: whole sky (Aitoff): a tangent plane distorts too much past some 60 deg across.
SMALL_REGION_DEG2 = 2000.0
#: Order of the whole-sky density map: 0.92 deg pixels, 49,152 on the sky.
MOLLWEIDE_ORDER = 6
#: Pixels across a zoomed density map: the order is chosen to give about this many.
ZOOM_PIXELS_ACROSS = 150
#: The finest zoom order: 1.7' pixels, which a release of ~10,000 sources per deg² fills
#: with ~8 sources each.
ZOOM_MAX_ORDER = 11


def pixel_area_deg2(order: int) -> float:
    """Solid angle of one HEALPix pixel at ``order`` [deg²]."""
    return SKY_DEG2 / (12 * 4**order)


def zoom_order(width_deg: float) -> int:
    """HEALPix order giving about ``ZOOM_PIXELS_ACROSS`` pixels over ``width_deg``."""
    pixel_deg = 58.6 / np.sqrt(3.0)  # order-0 pixel side, sqrt of its area
    order = int(round(np.log2(pixel_deg * ZOOM_PIXELS_ACROSS / max(width_deg, 1e-3))))
    return int(np.clip(order, MOLLWEIDE_ORDER, ZOOM_MAX_ORDER))


def region_box(ra_deg: np.ndarray, dec_deg: np.ndarray) -> tuple[float, float, float, float, float]:
    """(RA centre, RA half-width, Dec min, Dec max, width on the sky) [deg] of positions,
    RA measured around the circular mean so that a region across RA 0 stays whole."""
    ra = np.radians(np.asarray(ra_deg, float))
    centre = float(np.degrees(np.arctan2(np.sin(ra).mean(), np.cos(ra).mean())) % 360.0)
    offset = (np.asarray(ra_deg, float) - centre + 180.0) % 360.0 - 180.0
    half = float(np.abs(offset).max()) if len(offset) else 0.0
    dec = np.asarray(dec_deg, float)
    lo, hi = float(dec.min()), float(dec.max())
    cos = np.cos(np.radians(np.clip((lo + hi) / 2, -89.0, 89.0)))
    return centre, half, lo, hi, max(2 * half * cos, hi - lo)


def coverage_figure(coverage: Coverage, corners_deg: np.ndarray, max_outlines: int = 600
                    ) -> bytes:
    """The coverage MOC, with each scan's outline when there are few enough.

    The MOC is drawn as an image of which pixel centres it contains: one vectorized test
    per pixel, where drawing every cell as a patch costs seconds per thousand scans.
    """
    fig = new_figure(8.0, 6.0)
    if coverage.scans == 0:
        no_data(fig.subplots(), "no scans")
        return to_png(fig)
    small = coverage.area_deg2 < SMALL_REGION_DEG2
    wcs = coverage.moc.wcs(fig, projection="TAN" if small else "AIT")
    ax = fig.add_subplot(1, 1, 1, projection=wcs)
    width, height = (int(v) for v in fig.get_size_inches() * fig.dpi)
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    lon, lat = wcs.pixel_to_world_values(x, y)
    on_sky = np.isfinite(lon) & np.isfinite(lat)
    inside = np.zeros(lon.shape, bool)
    inside[on_sky] = coverage.moc.contains_lonlat(lon[on_sky] * u.deg, lat[on_sky] * u.deg)
    image = np.where(inside, 1.0, np.where(on_sky, 0.0, np.nan))
    ax.imshow(image, origin="lower", cmap=ListedColormap(["white", "#8fb8de"]), vmin=0, vmax=1,
              interpolation="nearest")
    if small and len(corners_deg) <= max_outlines:
        transform = ax.get_transform("icrs")
        for row in corners_deg:
            ra, dec = row[0::2][[0, 1, 3, 2, 0]], row[1::2][[0, 1, 3, 2, 0]]
            ax.plot(ra, dec, color="k", linewidth=0.3, alpha=0.6, transform=transform)
    ax.coords[0].set_axislabel("RA [deg]")
    ax.coords[1].set_axislabel("Dec [deg]")
    ax.coords[0].set_format_unit("deg", decimal=True)
    ax.coords[1].set_format_unit("deg", decimal=True)
    ax.coords.grid(color="0.6", linestyle=":", linewidth=0.6)
    ax.set_title(f"{coverage.area_deg2:,.2f} deg² covered by {coverage.scans:,d} scans "
                 f"(MOC order {coverage.depth})", fontsize="medium")
    return to_png(fig)


def density_maps(pixels: np.ndarray, counts: np.ndarray, order: int, *, label: str,
                 zoom: bool) -> bytes:
    """Sources per deg²: the whole sky in Mollweide (order ``MOLLWEIDE_ORDER``) and, for a
    small region, a cartesian zoom at ``order``; ``pixels`` are NESTED at ``order``."""
    fig = new_figure(13.0 if zoom else 9.0, 5.0)
    axes = np.atleast_1d(fig.subplots(1, 2 if zoom else 1,
                                      width_ratios=[1.3, 1] if zoom else None))
    coarse, sums = _coarsen(pixels, counts, order, MOLLWEIDE_ORDER)
    if not len(coarse):
        for ax in axes:
            no_data(ax)
        return to_png(fig)
    density = sums / pixel_area_deg2(MOLLWEIDE_ORDER)
    ax = axes[0]
    image, extent = project_map(coarse, density, MOLLWEIDE_ORDER, xsize=900)
    shown = ax.imshow(image, origin="lower", extent=extent, norm=_norm(density), cmap="viridis")
    _mollweide_frame(ax)
    fig.colorbar(shown, ax=ax, shrink=0.7, label=f"{label} per deg²")
    ax.set_title(f"whole sky, HEALPix order {MOLLWEIDE_ORDER} (RA 0 at the centre, east left)",
                 fontsize="medium")
    if zoom:
        _zoom(fig, axes[1], pixels, counts / pixel_area_deg2(order), order, label)
    return to_png(fig)


def _zoom(fig, ax, pixels: np.ndarray, density: np.ndarray, order: int, label: str) -> None:
    ra, dec = hpx2ang(pixels, order)
    centre, half, lo, hi, _ = region_box(ra, dec)
    margin = 2 * np.sqrt(pixel_area_deg2(order))
    lonra = (-half - margin, half + margin)
    latra = (max(lo - margin, -90.0), min(hi + margin, 90.0))
    image, _ = project_map(pixels, density, order, xsize=700, lonra_deg=lonra, latra_deg=latra,
                           rot_deg=centre)
    shown = ax.imshow(image, origin="lower", cmap="viridis", norm=_norm(density),
                      extent=(centre + lonra[1], centre + lonra[0], latra[0], latra[1]),
                      aspect=1 / np.cos(np.radians(np.clip((lo + hi) / 2, -80, 80))))
    ax.set_xlabel("RA [deg]")
    ax.set_ylabel("Dec [deg]")
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v % 360:g}")
    fig.colorbar(shown, ax=ax, shrink=0.8, label=f"{label} per deg²")
    ax.set_title(f"zoom, HEALPix order {order} "
                 f"({np.sqrt(pixel_area_deg2(order)) * 60:.1f}' pixels)", fontsize="medium")


def _coarsen(pixels: np.ndarray, counts: np.ndarray, order: int, to: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Counts summed into the parent pixels at the coarser order ``to``."""
    if not len(pixels):
        return np.zeros(0, np.int64), np.zeros(0)
    parents = np.asarray(pixels, np.int64) >> (2 * (order - min(to, order)))
    unique, inverse = np.unique(parents, return_inverse=True)
    return unique, np.bincount(inverse, weights=np.asarray(counts, float))


def _norm(values: np.ndarray) -> LogNorm | None:
    positive = np.asarray(values)[np.asarray(values) > 0]
    if not len(positive) or positive.min() == positive.max():
        return None
    return LogNorm(vmin=float(positive.min()), vmax=float(positive.max()))


def _mollweide_frame(ax, ra_step_deg: int = 60, dec_lines: Sequence[int] = (-60, -30, 0, 30, 60)
                     ) -> None:
    """Outline and graticule of the Mollweide plane (RA every 60 deg, Dec every 30)."""
    line = np.linspace(-90, 90, 181)
    for ra in range(0, 360, ra_step_deg):
        x, y = mollweide_xy(np.full_like(line, ra + 1e-6), line)
        ax.plot(x, y, color="0.6", linewidth=0.5)
    for ra_edge in (180 - 1e-6, 180 + 1e-6):
        x, y = mollweide_xy(np.full_like(line, ra_edge), line)
        ax.plot(x, y, color="0.3", linewidth=0.8)
    ring = np.linspace(180 + 1e-6, 540 - 1e-6, 361)
    for dec in dec_lines:
        x, y = mollweide_xy(ring % 360, np.full_like(ring, dec))
        ax.plot(x, y, color="0.6", linewidth=0.5)
    ax.set_xlim(-2.05, 2.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.axis("off")
