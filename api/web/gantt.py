"""The one Gantt renderer of the pages: rows (machines, members) down, time across, bars and
shaded times, drawn by the template partial `_gantt.html` as an HTML label column beside an
inline SVG that scrolls on its own (the labels stay while the chart scrolls).

Time is laid out over *segments* shown side by side (a day cut to the house's displayed
hours, or one span from a first to a last midnight); x positions are fractions of the plot's
width, written into the SVG as percentages, so one chart fits its box at any screen width
(`zoom` 1) or is drawn 2 or 4 times as wide and scrolls, without scaling its text. A chart
given `width_px` (the run page's long horizons) is at least that wide and scrolls in a
narrower box.

Nothing here decides a rule: the pages hand in what the services returned, in words.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from markupsafe import Markup

# Geometry in CSS pixels; gantt.css gives the HTML label column the same heights.
HEADER_HEIGHT = 44
ROW_HEIGHT = 34
BAR_INSET = 5
ZOOMS = (1, 2, 4)

# Each kind of bar has a colour (gantt.css) and, so that colour is never the only difference,
# a texture drawn over it and an outline: held work is striped with a dashed outline, new
# work dotted, moved work striped the other way with a thick outline, a no-show crossed, a
# window not yet placed outlined in dots. Kinds without a texture are solid.
TEXTURES = {
    "held": "stripes",
    "proposed": "dots",
    "new": "dots",
    "moved": "stripes-back",
    "no_show": "cross",
    "window": "stripes",
}

# The smallest widths (rem) a chart that fits its box may shrink to; narrower screens scroll.
MIN_WIDTHS = (24, 36, 48, 56, 64, 96, 112, 128, 192, 224)


@dataclass
class Row:
    key: Hashable
    label: str
    sub: str
    y: float


@dataclass
class Column:
    """A stretch of the x axis with a heading (a day), drawn with alternate shading."""

    x: float
    w: float
    label: str
    note: str = ""  # e.g. the holiday's name, drawn at the bottom in the alert colour
    alt: bool = False


def pct(value: float) -> str:
    """A fraction of the plot's width as the SVG's percentage ('12.5%'), rounded as
    `_gantt.html` rounds the few positions it writes itself."""
    return f"{round(value * 100, 4)}%"


@dataclass
class Shape:
    x: float
    y: float
    w: float
    h: float
    kind: str
    title: str
    label: str = ""
    href: str | None = None
    link_label: str = ""
    texture: str | None = None
    # The id of the first piece of a linked bar (bar-<target>), the panel's way back to it.
    anchor: str | None = None

    @functools.cached_property
    def box(self) -> Markup:
        """The shape's x, y, width and height attributes, written once per shape: a bar draws
        them on its fill, texture, edge and label, a page has a thousand bars, and formatting
        them in the template costs a macro call each."""
        return Markup(
            f'x="{pct(self.x)}" y="{round(self.y, 1)}" '
            f'width="{pct(self.w)}" height="{round(self.h, 1)}"'
        )

    @property
    def label_y(self) -> float:
        """The baseline of the label inside the bar."""
        return round(self.h / 2 + 4, 1)


@dataclass
class Chart:
    """Everything `_gantt.html` needs. x and w are fractions (0..1) of the plot's width."""

    id: str
    label: str
    height: float
    rows: list[Row]
    width: str  # the SVG's width attribute: "100%" of its box, or "200%" / "400%" zoomed
    min_width: int | None = None  # rem: narrower boxes scroll (gantt.css: gantt-min-<n>)
    columns: list[Column] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)
    shades: list[Shape] = field(default_factory=list)
    bars: list[Shape] = field(default_factory=list)
    now_x: float | None = None
    legend: list[tuple[str, str]] = field(default_factory=list)
    rows_label: str = ""

    @property
    def scrolls_on_desktop(self) -> bool:
        """Wider than a desktop page's plot (about 64rem at 1280 px): it scrolls there too."""
        return self.width != "100%" or (self.min_width or 0) > 64

    @property
    def textures(self) -> set[str]:
        return {b.texture for b in self.bars if b.texture}


Segment = tuple[dt.datetime, dt.datetime]


def fit_label(label: str, width: float, char_width: float = 6.5) -> str:
    """`label` cut to what fits in `width` pixels (about 6.5 a character at 11 px bold); the
    full text stays in a <title> or a table beside the chart."""
    room = int((width - 8) / char_width)
    if room >= len(label):
        return label
    return label[: room - 1] + "…" if room >= 4 else ""


def tick_step(px_per_hour: float, choices: Iterable[int] = (1, 2, 3, 4, 6, 12, 24)) -> int:
    """Hours between two tick labels so that labels ("09:00") stay about 40 px apart."""
    for step in choices:
        if step * px_per_hour >= 40:
            return step
    return 24


def min_width_for(rem: float) -> int:
    """The first of MIN_WIDTHS at least `rem` wide (the chart's CSS class is gantt-min-<n>)."""
    for width in MIN_WIDTHS:
        if width >= rem:
            return width
    return MIN_WIDTHS[-1]


class Timeline:
    """Maps moments onto x over `segments` of equal width and collects rows, shaded times and
    bars for one Chart."""

    def __init__(
        self,
        chart_id: str,
        label: str,
        segments: list[Segment],
        rows: list[tuple[Hashable, str, str]],
        *,
        zoom: int = 1,
        width_px: float | None = None,
        min_rem: float | None = None,
        rows_label: str = "",
    ) -> None:
        if not segments:
            raise ValueError("a timeline needs at least one segment")
        self.segments = segments
        self.row_y = {key: HEADER_HEIGHT + i * ROW_HEIGHT for i, (key, _l, _s) in enumerate(rows)}
        self._linked: set[str] = set()  # the link targets whose first piece is drawn
        zoom = zoom if zoom in ZOOMS else 1
        if width_px is not None:
            # At least this wide; wider when the box is (a short plan fills the page).
            width, min_width = "100%", min_width_for(width_px / 16)
        else:
            width = f"{zoom * 100}%"
            min_width = min_width_for(zoom * (min_rem or 36))
        self.chart = Chart(
            id=chart_id,
            label=label,
            width=width,
            min_width=min_width,
            height=HEADER_HEIGHT + ROW_HEIGHT * max(1, len(rows)) + 2,
            rows=[Row(key, text, sub, self.row_y[key]) for key, text, sub in rows],
            rows_label=rows_label,
        )

    @property
    def start(self) -> dt.datetime:
        return self.segments[0][0]

    @property
    def end(self) -> dt.datetime:
        return self.segments[-1][1]

    @property
    def segment_width(self) -> float:
        return 1 / len(self.segments)

    def column(self, index: int, label: str, note: str = "") -> None:
        """A heading over segment `index`."""
        self.chart.columns.append(
            Column(index * self.segment_width, self.segment_width, label, note, alt=index % 2 == 1)
        )

    def x_of(self, moment: dt.datetime) -> float | None:
        """The x of `moment`, or None outside every segment."""
        for i, (s, e) in enumerate(self.segments):
            if s <= moment < e:
                return (i + (moment - s) / (e - s)) * self.segment_width
        return None

    def tick(self, moment: dt.datetime, text: str) -> None:
        x = self.x_of(moment)
        if x is not None:
            self.chart.ticks.append((x, text))

    def pieces(self, start: dt.datetime, end: dt.datetime) -> list[tuple[float, float]]:
        """(x, w) of the parts of [start, end) that fall in the segments."""
        found = []
        for i, (s, e) in enumerate(self.segments):
            lo, hi = max(start, s), min(end, e)
            if hi <= lo:
                continue
            span = e - s
            found.append(
                ((i + (lo - s) / span) * self.segment_width, (hi - lo) / span * self.segment_width)
            )
        return found

    def shade(
        self, row: Hashable | None, start: dt.datetime, end: dt.datetime, kind: str, title: str
    ) -> None:
        """Shade a time on one row, or across every row when `row` is None."""
        if row is None:
            y, h = float(HEADER_HEIGHT), self.chart.height - HEADER_HEIGHT - 2
        else:
            y, h = float(self.row_y[row]), float(ROW_HEIGHT)
        for x, w in self.pieces(start, end):
            self.chart.shades.append(Shape(x, y, w, h, kind, title))

    def shade_outside(
        self, segment: Segment, windows: Iterable[Segment], kind: str, title: str
    ) -> None:
        """Shade the parts of `segment` that none of `windows` covers, across every row."""
        cursor = segment[0]
        for w_start, w_end in sorted(windows):
            if w_start > cursor:
                self.shade(None, cursor, min(w_start, segment[1]), kind, title)
            cursor = max(cursor, w_end)
        if cursor < segment[1]:
            self.shade(None, cursor, segment[1], kind, title)

    def bar(
        self,
        row: Hashable,
        start: dt.datetime,
        end: dt.datetime,
        kind: str,
        title: str,
        label: str = "",
        *,
        href: str | None = None,
        link_label: str = "",
    ) -> None:
        """A bar on `row` (one piece per segment it crosses); `href` makes it a link, named by
        `link_label` for screen readers and keyboards."""
        if row not in self.row_y:
            return
        y = self.row_y[row] + BAR_INSET
        for x, w in self.pieces(start, end):
            anchor = None
            if href is not None and href not in self._linked:
                self._linked.add(href)
                anchor = f"bar-{href[1:]}"
            self.chart.bars.append(
                Shape(
                    x,
                    y,
                    w,
                    ROW_HEIGHT - 2 * BAR_INSET,
                    kind,
                    title,
                    label,
                    href,
                    link_label or title,
                    TEXTURES.get(kind),
                    anchor,
                )
            )

    def now_line(self, now: dt.datetime) -> None:
        self.chart.now_x = self.x_of(now)

    def legend(self, entries: Iterable[tuple[str, str]]) -> None:
        """(kind, words) pairs shown above the chart, with the kind's colour and texture."""
        self.chart.legend = list(entries)
