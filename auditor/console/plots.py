"""Small inline-SVG charts for the admin pages: readable, labelled axes, no plotting library."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 30, 52  # the right margin holds labels and the legend
PALETTE = ["#2f5fd0", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#1d4ed8"]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = (high - low) / count
    return [low + i * step for i in range(count + 1)]


def _text(x: float, y: float, content: str, css: str, anchor: str = "start", transform: str = "") -> str:
    place = f'transform="{transform}"' if transform else f'x="{x:.1f}" y="{y:.1f}"'
    return f'<text {place} text-anchor="{anchor}" class="{css}">{escape(content)}</text>'


def _line(x1: float, y1: float, x2: float, y2: float, colour: str = "#eef1f6") -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"/>'


def _frame(
    title: str,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    *,
    x_ticks: list[float] | None = None,
):
    (x0, x1), (y0, y1) = x_range, y_range
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(value: float) -> float:
        return LEFT + (value - x0) / (x1 - x0 or 1) * plot_w

    def y(value: float) -> float:
        return TOP + plot_h - (value - y0) / (y1 - y0 or 1) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#cbd2dc"/>',
    ]
    for value in x_ticks if x_ticks is not None else _ticks(x0, x1):
        label = f"{value:g}" if x_ticks is not None else f"{value:.2f}"
        parts += [
            _line(x(value), TOP, x(value), TOP + plot_h),
            _text(x(value), TOP + plot_h + 16, label, "tick", "middle"),
        ]
    for value in _ticks(y0, y1):
        parts += [
            _line(LEFT, y(value), LEFT + plot_w, y(value)),
            _text(LEFT - 6, y(value) + 4, f"{value:.2f}", "tick", "end"),
        ]
    parts += [
        _text(LEFT + plot_w / 2, HEIGHT - 12, x_label, "axis", "middle"),
        _text(0, 0, y_label, "axis", "middle", transform=f"translate(16 {TOP + plot_h / 2}) rotate(-90)"),
        _text(LEFT, 18, title, "title"),
    ]
    return parts, x, y


def _range(values: Sequence[float], pad: float = 0.05) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high - low < 0.1:
        low, high = low - 0.05, high + 0.05
    return max(0.0, low - pad * (high - low)), min(1.0, high + pad * (high - low))


def scatter_svg(points: Sequence[tuple[float, float, str]], *, title: str, x_label: str, y_label: str) -> str:
    """One labelled dot per (x, y, name); values in [0, 1]."""
    if not points:
        return ""
    parts, x, y = _frame(title, x_label, y_label, _range([p[0] for p in points]), _range([p[1] for p in points]))
    for px, py, name in points:
        parts.append(
            f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="4" fill="#2f5fd0"><title>{escape(name)}: '
            f"{px:.3f}, {py:.3f}</title></circle>"
            f'<text x="{x(px) + 6:.1f}" y="{y(py) - 5:.1f}" class="point">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def lines_svg(series: dict[str, Sequence[tuple[float, float]]], *, title: str, x_label: str, y_label: str) -> str:
    """One line per name over whole-numbered x (model versions); a legend on the right. Empty below two x values."""
    values = [v for points in series.values() for _, v in points]
    xs = sorted({x for points in series.values() for x, _ in points})
    if len(xs) < 2:
        return ""
    step = max(1, round((xs[-1] - xs[0]) / 8))
    ticks = [float(t) for t in range(int(xs[0]), int(xs[-1]) + 1, step)]
    parts, x, y = _frame(title, x_label, y_label, (xs[0], xs[-1]), _range(values), x_ticks=ticks)
    for n, (name, points) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(px):.1f},{y(py):.1f}" for i, (px, py) in enumerate(points))
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.extend(
            f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="3" fill="{colour}"><title>{escape(name)} '
            f"v{px:g}: {py:.3f}</title></circle>"
            for px, py in points
        )
        legend_y = TOP + 14 * n + 8
        if legend_y < HEIGHT - BOTTOM:
            parts.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{legend_y - 8}" width="10" height="3" fill="{colour}"/>')
            parts.append(_text(WIDTH - RIGHT + 26, legend_y - 3, name, "point"))
    parts.append("</svg>")
    return "".join(parts)
