"""A small raster canvas that writes PNG with the standard library only (``zlib``, ``struct``).

Why not a plotting library: the report's charts are lines, bars, dots and short labels, and the
coach must install on any Raspberry Pi. matplotlib would bring numpy, Pillow, fonttools, kiwisolver and
contourpy (tens of megabytes); PyPI has wheels for 64-bit Pi OS (aarch64) but none for 32-bit Pi OS
(armv7l) or the Pi Zero (armv6l), where pip would build from source unless piwheels is set up, and it is
slow to import on small boards. Drawing each chart once on an abstract canvas (:mod:`coach.reports.charts`)
gives SVG for the HTML page and this PNG for printing, with no dependency and no extra to install.
Text uses a built-in 5x7 bitmap font, in capitals; the PNG records 150 dpi so it prints at a sensible size.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 150

_FONT_ROWS = {
    'A': ".###.|#...#|#...#|#####|#...#|#...#|#...#", 'B': "####.|#...#|#...#|####.|#...#|#...#|####.",
    'C': ".###.|#...#|#....|#....|#....|#...#|.###.", 'D': "###..|#..#.|#...#|#...#|#...#|#..#.|###..",
    'E': "#####|#....|#....|####.|#....|#....|#####", 'F': "#####|#....|#....|####.|#....|#....|#....",
    'G': ".###.|#...#|#....|#.###|#...#|#...#|.####", 'H': "#...#|#...#|#...#|#####|#...#|#...#|#...#",
    'I': ".###.|..#..|..#..|..#..|..#..|..#..|.###.", 'J': "..###|...#.|...#.|...#.|...#.|#..#.|.##..",
    'K': "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#", 'L': "#....|#....|#....|#....|#....|#....|#####",
    'M': "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#", 'N': "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#",
    'O': ".###.|#...#|#...#|#...#|#...#|#...#|.###.", 'P': "####.|#...#|#...#|####.|#....|#....|#....",
    'Q': ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#", 'R': "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
    'S': ".####|#....|#....|.###.|....#|....#|####.", 'T': "#####|..#..|..#..|..#..|..#..|..#..|..#..",
    'U': "#...#|#...#|#...#|#...#|#...#|#...#|.###.", 'V': "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",
    'W': "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.", 'X': "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",
    'Y': "#...#|#...#|.#.#.|..#..|..#..|..#..|..#..", 'Z': "#####|....#|...#.|..#..|.#...|#....|#####",
    '0': ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.", '1': "..#..|.##..|..#..|..#..|..#..|..#..|.###.",
    '2': ".###.|#...#|....#|...#.|..#..|.#...|#####", '3': "#####|...#.|..#..|...#.|....#|#...#|.###.",
    '4': "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.", '5': "#####|#....|####.|....#|....#|#...#|.###.",
    '6': "..##.|.#...|#....|####.|#...#|#...#|.###.", '7': "#####|....#|...#.|..#..|.#...|.#...|.#...",
    '8': ".###.|#...#|#...#|.###.|#...#|#...#|.###.", '9': ".###.|#...#|#...#|.####|....#|...#.|.##..",
    ' ': ".....|.....|.....|.....|.....|.....|.....", '-': ".....|.....|.....|#####|.....|.....|.....",
    '(': "...#.|..#..|.#...|.#...|.#...|..#..|...#.", ')': ".#...|..#..|...#.|...#.|...#.|..#..|.#...",
    '/': ".....|....#|...#.|..#..|.#...|#....|.....", ':': ".....|.##..|.##..|.....|.##..|.##..|.....",
    '.': ".....|.....|.....|.....|.....|.##..|.##..", ',': ".....|.....|.....|.....|.##..|..#..|.#...",
    '>': ".#...|..#..|...#.|....#|...#.|..#..|.#...", '<': "...#.|..#..|.#...|#....|.#...|..#..|...#.",
    '%': "##...|##..#|...#.|..#..|.#...|#..##|...##", '+': ".....|..#..|..#..|#####|..#..|..#..|.....",
    '=': ".....|.....|#####|.....|#####|.....|.....", "'": ".##..|..#..|.#...|.....|.....|.....|.....",
    '?': ".###.|#...#|....#|...#.|..#..|.....|..#..",
}  # fmt: skip
"""Each glyph: 7 rows of 5 pixels, top to bottom, separated by ``|`` (``#`` ink)."""


def _glyph(char: str) -> list[tuple[int, int]]:
    rows = (_FONT_ROWS.get(char.upper()) or _FONT_ROWS["?"]).split("|")
    return [(x, y) for y, row in enumerate(rows) for x, c in enumerate(row) if c == "#"]


_GLYPHS = {char: _glyph(char) for char in _FONT_ROWS}


def parse_color(color: str) -> bytes:
    text = color.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    return bytes.fromhex(text[:6])


class RasterCanvas:
    """RGB pixels for a chart laid out in points; ``scale`` pixels per point."""

    def __init__(self, width: float, height: float, scale: float = 2.0, background: str = "#ffffff") -> None:
        self.width, self.height, self.scale = width, height, scale
        self.w, self.h = int(width * scale), int(height * scale)
        self.pixels = bytearray(parse_color(background) * (self.w * self.h))

    # --- drawing, in points -----------------------------------------------------------------

    def rect(self, x: float, y: float, w: float, h: float, fill: str) -> None:
        s = self.scale
        self._fill(round(x * s), round(y * s), round((x + w) * s), round((y + h) * s), parse_color(fill))

    def line(self, points: Sequence[tuple[float, float]], stroke: str, width: float = 1.0) -> None:
        color = parse_color(stroke)
        radius = max(0.5, width * self.scale / 2)
        for (x1, y1), (x2, y2) in zip(points, points[1:]):
            x1, y1, x2, y2 = (v * self.scale for v in (x1, y1, x2, y2))
            steps = max(1, int(max(abs(x2 - x1), abs(y2 - y1))))
            for i in range(steps + 1):
                t = i / steps
                self._disc(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t, radius, color)

    def circle(self, x: float, y: float, r: float, fill: str, stroke: str | None = None) -> None:
        s = self.scale
        if stroke is not None:
            self._disc(x * s, y * s, r * s + s, parse_color(stroke))
        self._disc(x * s, y * s, r * s, parse_color(fill))

    def text(
        self, x: float, y: float, text: str, size: float = 11.0, fill: str = "#222222", anchor: str = "start", bold: bool = False
    ) -> None:
        """Draw ``text`` with its baseline at ``y``; ``anchor`` is start, middle or end, as in SVG."""
        k = max(1, int(size * self.scale / 10))
        advance = 6 * k
        width = advance * len(text) - k
        left = x * self.scale - {"start": 0, "middle": width / 2, "end": width}.get(anchor, 0)
        top = round(y * self.scale) - 7 * k
        color = parse_color(fill)
        for n, char in enumerate(text):
            gx = round(left) + n * advance
            for px, py in _GLYPHS.get(char.upper(), _GLYPHS["?"]):
                for dx in range(2 if bold else 1):
                    x0 = gx + px * k + dx
                    self._fill(x0, top + py * k, x0 + k, top + (py + 1) * k, color)

    # --- pixels -------------------------------------------------------------------------------

    def _fill(self, x0: int, y0: int, x1: int, y1: int, color: bytes) -> None:
        x0, x1 = max(0, min(x0, x1)), min(self.w, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.h, max(y0, y1))
        if x0 >= x1:
            return
        span = color * (x1 - x0)
        for row in range(y0, y1):
            start = (row * self.w + x0) * 3
            self.pixels[start : start + len(span)] = span

    def _disc(self, cx: float, cy: float, r: float, color: bytes) -> None:
        # _fill for each row, inlined (a line is thousands of discs): the same rows, spans and clipping.
        rr = r * r
        w, h, pixels = self.w, self.h, self.pixels
        for row in range(int(cy - r), int(cy + r) + 1):
            if row < 0 or row >= h:
                continue
            dy = row + 0.5 - cy
            if dy * dy > rr:
                continue
            half = (rr - dy * dy) ** 0.5
            x0, x1 = round(cx - half), round(cx + half)
            if x0 > x1:
                x0, x1 = x1, x0
            x0, x1 = max(0, x0), min(w, x1)
            if x0 < x1:
                start = (row * w + x0) * 3
                pixels[start : start + (x1 - x0) * 3] = color * (x1 - x0)

    # --- output -------------------------------------------------------------------------------

    def png(self) -> bytes:
        stride = self.w * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[r * stride : (r + 1) * stride]) for r in range(self.h))
        per_metre = round(DPI / 0.0254)
        return b"".join(
            (
                PNG_SIGNATURE,
                _chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)),
                _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
                _chunk(b"IDAT", zlib.compress(raw, 9)),
                _chunk(b"IEND", b""),
            )
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
