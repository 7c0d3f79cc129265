"""Static SVG charts for pages and the paper notice (pygal, no JavaScript).

Every chart is a self-contained ``<svg>`` string without an XML declaration and without
script, so it can be inlined in HTML or rendered to PDF by WeasyPrint. Values are integer
fen; axes and value labels show yuan, formatted with integer arithmetic. The palette keeps
clearly different lightness so the series stay apart when printed in greyscale, and text
uses Noto Sans CJK SC so Chinese labels render.

Signatures here are stable (the web pages import them); new functions go at the end.
"""

from __future__ import annotations

import copy
import html
import re
import sys
from typing import Any

import pygal
from pygal.style import Style

from ledger.core.money import yuan

# pygal appends a sys.meta_path finder (for its ``pygal.maps`` plugins, unused here) that
# lacks find_spec, so every later import warns (ImportWarning). Remove it.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Noto Sans', sans-serif"
# Dark blue, orange, light blue, dark grey, sand: distinct lightness in greyscale.
COLOURS = ("#1f4e79", "#e8912d", "#9dc3e6", "#404040", "#d9c38c", "#7a2e1f")

STYLE = Style(
    font_family=FONT,
    background="white",
    plot_background="white",
    foreground="#222222",
    foreground_strong="#111111",
    foreground_subtle="#9a9a9a",
    opacity="1",
    opacity_hover="1",
    transition="none",
    colors=COLOURS,
    title_font_size=15,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
    value_font_size=10,
    tooltip_font_size=11,
    guide_stroke_color="#c4c4c4",
    major_guide_stroke_color="#a0a0a0",
    guide_stroke_dasharray="3,3",
    major_guide_stroke_dasharray="3,3",
)


def yuan_label(value: float | int | None) -> str:
    """An axis or value label: fen → '¥12,345' (whole yuan) or '¥12,345.67'."""
    if value is None:
        return ""
    fen = round(value)
    if fen % 100 == 0:
        return f"¥{yuan(fen)[:-3]}"
    return f"¥{yuan(fen)}"


def _text_width(text: str, size: int = 11) -> int:
    """A rough width in px: CJK characters are square, Latin about 0.55 em."""
    return sum(size if ord(ch) > 0x2E7F else size * 55 // 100 for ch in text)


def _label_rotation(labels: list[str], width: int) -> int:
    """Tilt the x labels when the longest would not fit its slot."""
    if not labels:
        return 0
    slot = (width - 90) // len(labels)
    return 0 if max(_text_width(label) for label in labels) <= slot - 6 else 25


def _config(title: str, width: int, height: int, legend: bool, labels: list[str]) -> dict[str, Any]:
    return {
        "x_label_rotation": _label_rotation(labels, width),
        "title": title,
        "width": width,
        "height": height,
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": True,
        "show_legend": legend,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "value_formatter": yuan_label,
        "y_labels_major_every": None,
        "show_minor_y_labels": True,
        "margin": 8,
        "spacing": 8,
        "print_values": False,
        "tooltip_border_radius": 0,
    }


_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _render(chart: Any) -> str:
    """The chart's SVG without pygal's inline config ``<script>`` and its comments."""
    svg = chart.render(is_unicode=True)
    assert isinstance(svg, str)
    # pygal titles every chart "Pygal" for screen readers; give it the chart's own title.
    name = html.escape(str(chart.config.title or ""), quote=False)
    svg = svg.replace("<title>Pygal</title>", f"<title>{name}</title>", 1)
    return _COMMENT.sub("", _SCRIPT.sub("", svg))


def bar_chart_svg(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    *,
    width: int = 640,
    height: int = 320,
) -> str:
    """Grouped bars: one group per label, one bar per series; values in fen, axis in yuan."""
    chart = pygal.Bar(**_config(title, width, height, len(series) > 1, labels), zero=0)
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)


def line_chart_svg(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    *,
    width: int = 640,
    height: int = 320,
) -> str:
    """Lines over the labels (e.g. months or quarters); values in fen, axis in yuan."""
    chart = pygal.Line(
        **_config(title, width, height, len(series) > 1, labels),
        dots_size=3,
        stroke_style={"width": 2.5},
    )
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)


def progress_bar_svg(fraction_num: int, fraction_den: int, label: str) -> str:
    """A plain horizontal progress bar (e.g. spent / budget) with its label and percentage.

    Hand-written SVG (no pygal) so it stays small; the fill is clamped to 0–100 %.
    """
    width, height, bar_y, bar_h = 320, 34, 18, 12
    if fraction_den <= 0:
        filled, percent = 0, "—"
    else:
        clamped = max(0, min(fraction_num, fraction_den))
        filled = clamped * width // fraction_den
        hundredths = (fraction_num * 10_000 * 2 + fraction_den) // (2 * fraction_den)
        percent = f"{hundredths // 100}.{hundredths % 100:02d}%"
    text = _escape(f"{label}  {percent}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{text}">'
        f'<text x="0" y="12" font-family="{_escape(FONT)}" font-size="11" '
        f'fill="#222222">{text}</text>'
        f'<rect x="0" y="{bar_y}" width="{width}" height="{bar_h}" fill="#ffffff" '
        f'stroke="#404040" stroke-width="1"/>'
        f'<rect x="0" y="{bar_y}" width="{filled}" height="{bar_h}" fill="{COLOURS[0]}"/>'
        "</svg>"
    )


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def stacked_bar_chart_svg(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    *,
    width: int = 640,
    height: int = 320,
    last_grey: bool = False,
) -> str:
    """Stacked bars: one bar per label, the series stacked on it; values in fen, axis in yuan.

    The legend is always shown (a single series still names its category). Up to eight
    series get distinct colours; ``last_grey`` paints the last one (an "other"
    series) neutral grey. (Added for the residents' pages.)
    """
    palette = [*COLOURS, "#6aa84f", "#b4a7d6"][: max(len(series), 1)]
    if last_grey and series:
        palette[len(series) - 1] = "#b3b3b3"
    style = copy.copy(STYLE)
    style.colors = tuple(palette)
    config = {**_config(title, width, height, True, labels), "style": style}
    chart = pygal.StackedBar(**config, zero=0)
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)


def sparkline_svg(
    values: list[int], label: str, *, width: int = 240, height: int = 48, colour: str = COLOURS[0]
) -> str:
    """A small line without axes (a trend at a glance), its last point marked.

    Hand-written SVG; ``label`` (with the values in words) becomes its ``aria-label``. The
    vertical scale runs from min(0, lowest) to the highest value, in integer arithmetic.
    """
    pad = 4
    low, high = min(0, *values) if values else 0, max(values, default=0)
    span = max(high - low, 1)
    steps = max(len(values) - 1, 1)
    points = [
        (pad + i * (width - 2 * pad) // steps, pad + (high - v) * (height - 2 * pad) // span)
        for i, v in enumerate(values)
    ]
    line = " ".join(f"{x},{y}" for x, y in points)
    dots = "".join(
        f'<circle cx="{x}" cy="{y}" r="{3.5 if i == len(points) - 1 else 2}" fill="{colour}"/>'
        for i, (x, y) in enumerate(points)
    )
    base = pad + high * (height - 2 * pad) // span
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_escape(label)}">'
        f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#c8c8c8" '
        f'stroke-width="1"/>'
        f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2.5" '
        f'stroke-linejoin="round"/>{dots}</svg>'
    )


def horizontal_bar_chart_svg(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    *,
    width: int = 640,
    height: int | None = None,
) -> str:
    """Horizontal bars, one row per label (long category names stay readable); values in fen.

    Without ``height`` the chart grows with the number of rows. (Used by the paper notice.)
    """
    rows = max(1, len(labels)) * max(1, len(series))
    config = _config(title, width, height or 70 + 24 * rows, len(series) > 1, [])
    # pygal sizes labels at 0.6 em a character; CJK needs a full em, so widen the margin.
    shortfall = max((_text_width(label) - len(label) * 11 * 6 // 10 for label in labels), default=0)
    config["margin_left"] = 8 + max(0, shortfall)
    chart = pygal.HorizontalBar(**config, zero=0)
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)


def trend_line_svg(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    *,
    width: int = 640,
    height: int = 320,
) -> str:
    """``line_chart_svg`` with room on the right, so the last x label is never cut off, and
    only the major y labels (readable when the chart is shown small)."""
    config = {
        **_config(title, width, height, len(series) > 1, labels),
        "margin_right": 28,
        "show_minor_y_labels": False,
    }
    chart = pygal.Line(**config, dots_size=3, stroke_style={"width": 2.5})
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)
