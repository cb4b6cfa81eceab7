"""City-scale geometry on WGS84 coordinates: distances, areas, points along a line, self-intersection.

Positions are (lon, lat) tuples, as in GeoJSON. Areas and lengths use a local plane around the shape (an
equirectangular projection scaled by the cosine of its latitude): over a few kilometres its error stays far below
a tenth of a percent, which is plenty for comparing a drawn area with length × width.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)

Position = tuple[float, float]  # (lon, lat)


def distance_m(a: Position, b: Position) -> float:
    """Great-circle distance (haversine) in metres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


class LocalPlane:
    """Metres east (x) and north (y) of an origin; good for shapes a few kilometres across."""

    def __init__(self, origin: Position) -> None:
        self.lon0, self.lat0 = origin
        self.kx = math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0))
        self.ky = math.radians(1) * EARTH_RADIUS_M

    @classmethod
    def around(cls, positions: Sequence[Position]) -> LocalPlane:
        lons = [p[0] for p in positions]
        lats = [p[1] for p in positions]
        return cls(((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2))

    def xy(self, position: Position) -> tuple[float, float]:
        return ((position[0] - self.lon0) * self.kx, (position[1] - self.lat0) * self.ky)

    def lonlat(self, x: float, y: float) -> Position:
        return (self.lon0 + x / self.kx, self.lat0 + y / self.ky)


def signed_ring_area_m2(ring: Sequence[Position], plane: LocalPlane | None = None) -> float:
    """Shoelace area of a closed ring; positive when counter-clockwise (RFC 7946's exterior orientation)."""
    plane = plane or LocalPlane.around(ring)
    points = [plane.xy(p) for p in ring]
    total = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        total += x1 * y2 - x2 * y1
    return total / 2


def polygon_area_m2(rings: Sequence[Sequence[Position]]) -> float:
    """Area of a polygon: its exterior ring minus its holes, in square metres."""
    if not rings:
        return 0.0
    plane = LocalPlane.around(rings[0])
    outer = abs(signed_ring_area_m2(rings[0], plane))
    holes = sum(abs(signed_ring_area_m2(ring, plane)) for ring in rings[1:])
    return max(0.0, outer - holes)


def line_length_m(line: Sequence[Position]) -> float:
    return sum(distance_m(a, b) for a, b in itertools.pairwise(line))


def point_along(line: Sequence[Position], fraction: float) -> Position:
    """The position at `fraction` (0 = start, 1 = end) of the line's length."""
    if len(line) == 1:
        return line[0]
    fraction = min(1.0, max(0.0, fraction))
    lengths = [distance_m(a, b) for a, b in itertools.pairwise(line)]
    goal = sum(lengths) * fraction
    for (a, b), length in zip(itertools.pairwise(line), lengths, strict=True):
        if goal <= length and length > 0:
            t = goal / length
            return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
        goal -= length
    return line[-1]


def project_onto_line(line: Sequence[Position], position: Position) -> tuple[float, float]:
    """(distance in metres from the position to the line, fraction along the line of the nearest point)."""
    if len(line) == 1:
        return distance_m(line[0], position), 0.0
    plane = LocalPlane(position)
    px, py = 0.0, 0.0
    points = [plane.xy(p) for p in line]
    best = (math.inf, 0.0)
    walked = 0.0
    total = sum(math.dist(a, b) for a, b in itertools.pairwise(points))
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        dx, dy = bx - ax, by - ay
        length_sq = dx * dx + dy * dy
        t = 0.0 if length_sq == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length_sq))
        nx, ny = ax + t * dx, ay + t * dy
        distance = math.hypot(px - nx, py - ny)
        if distance < best[0]:
            best = (distance, (walked + t * math.sqrt(length_sq)) / total if total else 0.0)
        walked += math.sqrt(length_sq)
    return best


def _orientation(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> int:
    value = (b[1] - a[1]) * (c[0] - b[0]) - (b[0] - a[0]) * (c[1] - b[1])
    if abs(value) < 1e-9:
        return 0
    return 1 if value > 0 else 2


def _on_segment(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> bool:
    return min(a[0], c[0]) <= b[0] <= max(a[0], c[0]) and min(a[1], c[1]) <= b[1] <= max(a[1], c[1])


def segments_intersect(
    p1: tuple[float, float], p2: tuple[float, float], q1: tuple[float, float], q2: tuple[float, float]
) -> bool:
    o1, o2 = _orientation(p1, p2, q1), _orientation(p1, p2, q2)
    o3, o4 = _orientation(q1, q2, p1), _orientation(q1, q2, p2)
    if o1 != o2 and o3 != o4:
        return True
    return (
        (o1 == 0 and _on_segment(p1, q1, p2))
        or (o2 == 0 and _on_segment(p1, q2, p2))
        or (o3 == 0 and _on_segment(q1, p1, q2))
        or (o4 == 0 and _on_segment(q1, p2, q2))
    )


def ring_self_intersects(ring: Sequence[Position]) -> bool:
    """Whether two non-neighbouring edges of a closed ring cross or touch (a figure eight, a bow tie)."""
    plane = LocalPlane.around(ring)
    points = [plane.xy(p) for p in ring]
    edges = list(itertools.pairwise(points))
    count = len(edges)
    for i in range(count):
        for j in range(i + 1, count):
            if j == i + 1 or (i == 0 and j == count - 1):
                continue  # neighbours share a vertex
            if segments_intersect(*edges[i], *edges[j]):
                return True
    return False
