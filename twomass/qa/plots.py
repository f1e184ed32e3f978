"""The reports' charts, drawn with matplotlib's Agg renderer into PNG bytes.

Figures are built with ``matplotlib.figure.Figure`` and never through ``pyplot``: no
global state, no display needed, no window left open. Bands keep the survey paper's
colours (J blue, H green, Ks red); every axis label carries its unit.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

BANDS = "jhk"
BAND_NAMES = {"j": "J", "h": "H", "k": "Ks"}
BAND_COLOURS = {"j": "tab:blue", "h": "tab:green", "k": "tab:red"}
HEMISPHERES = {"n": "north (Mt. Hopkins)", "s": "south (Cerro Tololo)"}
DPI = 100


def new_figure(width_in: float = 11.0, height_in: float = 3.6) -> Figure:
    """A figure with an Agg canvas attached."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def no_data(ax, text: str = "no data") -> None:
    """Mark an empty panel, so that a missing measurement is seen as missing."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")


@dataclass
class BandPanel:
    """One band's panel of a magnitude-binned figure.

    ``x``, ``y`` are the scattered points (a sample); ``centres``, ``values`` the binned
    statistic drawn as a line, ``band_values`` optionally a second one (e.g. +-rms).
    """

    band: str  # j, h or k: the colour and the name in the x label
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    centres: np.ndarray = field(default_factory=lambda: np.zeros(0))
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    label: str = ""
    symmetric: bool = False  # draw -values too (an rms envelope around zero)
    title: str = ""
    points_label: str = ""
    point_size: float = 2.0  # a cloud of many points by default; larger for a curve


def depth_histograms(edges_mag: np.ndarray, counts: Mapping[tuple[str, str], np.ndarray],
                     required_mag: Mapping[str, float]) -> bytes:
    """The survey paper's Fig. 16: per band, the scans' S/N = 10 magnitudes per
    hemisphere, with the survey's requirement as a vertical line."""
    fig = new_figure()
    axes = fig.subplots(1, 3, sharey=True)
    for ax, band in zip(axes, BANDS, strict=True):
        drawn = False
        for hemis, style in (("n", "-"), ("s", "--")):
            n = counts.get((hemis, band))
            if n is None or not n.sum():
                continue
            ax.stairs(n, edges_mag, color=BAND_COLOURS[band], linestyle=style,
                      label=HEMISPHERES[hemis])
            drawn = True
        ax.axvline(required_mag[band], color="k", linewidth=1, label="requirement")
        ax.set_xlabel(f"{BAND_NAMES[band]} S/N = 10 magnitude [mag]")
        if drawn:
            ax.legend(fontsize="small")
        else:
            no_data(ax)
    axes[0].set_ylabel("scans per bin")
    return to_png(fig)


def band_panels(panels: Sequence[BandPanel], *, xlabel: str, ylabel: str,
                ylim: tuple[float, float] | None = None, hline: float | None = None) -> bytes:
    """One panel per band: sampled points and a binned statistic against magnitude;
    ``{band}`` in ``xlabel`` becomes each panel's band name."""
    fig = new_figure(11.0, 3.8)
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=ylim is not None))
    for ax, p in zip(axes, panels, strict=True):
        colour = BAND_COLOURS.get(p.band, "k")
        if len(p.x):
            ax.scatter(p.x, p.y, s=p.point_size, color=colour, linewidths=0, rasterized=True,
                       alpha=0.25 if p.point_size < 5 else 0.9, label=p.points_label or None)
        if len(p.centres):
            ax.plot(p.centres, p.values, "o-", color="k", markersize=3, label=p.label or None)
            if p.symmetric:
                ax.plot(p.centres, -np.asarray(p.values), "o-", color="k", markersize=3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small", loc="lower left" if p.points_label else "upper left")
        if not len(p.x) and not len(p.centres):
            no_data(ax)
        if hline is not None:
            ax.axhline(hline, color="0.5", linewidth=0.8)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_xlabel(xlabel.format(band=BAND_NAMES[p.band]))
        if p.title:
            ax.set_title(p.title, fontsize="medium")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(ylabel)
    return to_png(fig)


def bars(labels: Sequence[str], values: Sequence[float], *, xlabel: str,
         groups: Sequence[str] | None = None) -> bytes:
    """Horizontal bars, one per label, coloured by group (e.g. PSC and XSC)."""
    fig = new_figure(11.0, 0.9 + 0.32 * max(len(labels), 1))
    ax = fig.subplots()
    if not labels:
        no_data(ax, "nothing rejected")
        return to_png(fig)
    groups = list(groups or [""] * len(labels))
    palette = dict(zip(dict.fromkeys(groups), ("tab:purple", "tab:orange", "tab:cyan"),
                       strict=False))
    y = np.arange(len(labels))
    ax.barh(y, values, color=[palette[g] for g in groups])
    ax.set_yticks(y, [f"{g} {lab}".strip() for g, lab in zip(groups, labels, strict=True)])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    for yi, v in zip(y, values, strict=True):
        ax.text(v, yi, f" {v:,.0f}", va="center", fontsize="small")
    return to_png(fig)


def stacked_counts(x: Sequence[int], series: Mapping[str, Sequence[int]], *, xlabel: str,
                   ylabel: str) -> bytes:
    """Stacked bars of counts per integer ``x`` (e.g. scans per QA score and outcome)."""
    fig = new_figure(11.0, 3.6)
    ax = fig.subplots()
    bottom = np.zeros(len(x))
    for name, counts in series.items():
        ax.bar(x, counts, bottom=bottom, label=name)
        bottom += np.asarray(counts, float)
    if not series:
        no_data(ax)
    else:
        ax.legend(fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xticks(range(0, 11))
    return to_png(fig)


@dataclass
class Series:
    """A line or points against time in one panel of ``time_panels``."""

    x: np.ndarray
    y: np.ndarray
    label: str
    colour: str = "k"
    marker: str = "o"
    yerr: np.ndarray | None = None


def time_panels(panels: Sequence[tuple[str, Sequence[Series]]], *, xlabel: str,
                hlines: Mapping[int, Mapping[str, float]] | None = None) -> bytes:
    """Stacked panels sharing the time axis; ``panels`` are (y label, series)."""
    fig = new_figure(11.0, 1.2 + 2.0 * len(panels))
    axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
    for i, (ax, (ylabel, series)) in enumerate(zip(axes, panels, strict=True)):
        for s in series:
            if s.yerr is not None:
                ax.errorbar(s.x, s.y, yerr=s.yerr, fmt=s.marker, color=s.colour, markersize=3,
                            label=s.label, linewidth=0.8)
            else:
                ax.plot(s.x, s.y, s.marker, color=s.colour, markersize=3, label=s.label)
        for colour, level in (hlines or {}).get(i, {}).items():
            ax.axhline(level, color=colour, linewidth=1)
        if not any(len(s.x) for s in series):
            no_data(ax)
        elif any(s.label for s in series):
            ax.legend(fontsize="small", ncols=3)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel(xlabel)
    return to_png(fig)
