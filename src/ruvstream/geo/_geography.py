"""Look-ups over the region table: by name, distances, RTTs, nearest-first order.

Shared by the router (which region answers a client), replication (who is
near whom) and the simulator (latency between regions). Unknown region names
raise ``KeyError`` naming the known ones, so a typo in a config fails at
start-up instead of routing everything to the default.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._regions import REGIONS, Region
from ._rtt import MEASURED_RTT_MS, estimate_rtt_ms, great_circle_km

__all__ = ["distance_km", "nearest_region", "rank_by_rtt", "region", "region_names", "rtt_ms"]

_BY_NAME: dict[str, Region] = {r.name: r for r in REGIONS}


def region_names() -> tuple[str, ...]:
    return tuple(r.name for r in REGIONS)


def region(name: str) -> Region:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown region {name!r}; known: {', '.join(_BY_NAME)}") from None


def distance_km(a: str, b: str) -> float:
    ra, rb = region(a), region(b)
    return great_circle_km(ra.lat, ra.lon, rb.lat, rb.lon)


def rtt_ms(a: str, b: str) -> float:
    """Typical RTT between two regions: the table where it has the pair, else the estimate."""
    if a == b:
        region(a)
        return 0.0
    measured = MEASURED_RTT_MS.get(frozenset((a, b)))
    if measured is not None:
        return measured
    return estimate_rtt_ms(distance_km(a, b))


def rank_by_rtt(origin: str, candidates: Iterable[str]) -> list[str]:
    """Candidates nearest first by RTT from ``origin``; ties break by name (stable order).

    Names outside the table (local test labels such as ``"local"``) are kept,
    after every known region, in their given order: an operator may run a
    region the table does not know, and it must still be routable.
    """
    known = [c for c in dict.fromkeys(candidates) if c in _BY_NAME]
    unknown = [c for c in dict.fromkeys(candidates) if c not in _BY_NAME]
    if origin not in _BY_NAME:
        if origin in unknown:
            return [origin, *known, *(u for u in unknown if u != origin)]
        return known + unknown
    return sorted(known, key=lambda c: (rtt_ms(origin, c), c)) + unknown


def nearest_region(lat: float, lon: float, candidates: Iterable[str] | None = None) -> str:
    """The known region closest (great-circle) to a point, among ``candidates`` if given."""
    names = [c for c in (candidates or _BY_NAME) if c in _BY_NAME]
    if not names:
        raise ValueError("no known region among the candidates")
    return min(names, key=lambda n: great_circle_km(lat, lon, _BY_NAME[n].lat, _BY_NAME[n].lon))
