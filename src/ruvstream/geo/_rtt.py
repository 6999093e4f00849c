"""Round-trip times between regions: a table of typical figures plus an estimate.

The table holds typical median RTTs (milliseconds) between cloud regions over
the provider's backbone, as published inter-region latency dashboards show
them; pairs absent from it are estimated from the great-circle distance.

Estimate: light in fibre covers ~200 km per ms, real paths run ~1.6x the
great-circle distance, and each end adds ~1 ms of switching:
``rtt = 2 * 1.6 * d / 200 + 2`` = ``0.016 * d + 2``. For the tabled pairs its
median error is under 10% and its worst (trans-Pacific, whose cables run
straighter than the 1.6 stretch) under 45%; tests hold it to that, which is
what ranking regions by "nearest" needs.

Invariants: ``rtt_ms(a, a) == 0``; ``rtt_ms(a, b) == rtt_ms(b, a)``; every
value is finite and non-negative.
"""

from __future__ import annotations

import math

__all__ = ["EARTH_RADIUS_KM", "MEASURED_RTT_MS", "estimate_rtt_ms", "great_circle_km"]

EARTH_RADIUS_KM = 6371.0
_KM_PER_MS_IN_FIBRE = 200.0
_PATH_STRETCH = 1.6
_SWITCHING_MS = 2.0

MEASURED_RTT_MS: dict[frozenset[str], float] = {
    frozenset(pair): ms
    for pair, ms in (
        (("us-central1", "us-east1"), 30.0),
        (("us-central1", "us-west1"), 36.0),
        (("us-east1", "us-west1"), 66.0),
        (("us-central1", "northamerica-northeast1"), 28.0),
        (("us-east1", "northamerica-northeast1"), 26.0),
        (("us-east1", "southamerica-east1"), 115.0),
        (("us-central1", "southamerica-east1"), 145.0),
        (("us-east1", "europe-west1"), 95.0),
        (("us-central1", "europe-west1"), 104.0),
        (("northamerica-northeast1", "europe-west2"), 80.0),
        (("europe-west1", "europe-west2"), 7.0),
        (("europe-west1", "europe-west3"), 8.0),
        (("europe-west2", "europe-west3"), 14.0),
        (("europe-west1", "europe-north1"), 32.0),
        (("europe-west3", "europe-north1"), 27.0),
        (("europe-west1", "me-west1"), 62.0),
        (("europe-west3", "me-west1"), 55.0),
        (("asia-northeast1", "asia-east1"), 36.0),
        (("asia-east1", "asia-southeast1"), 50.0),
        (("asia-northeast1", "asia-southeast1"), 70.0),
        (("asia-southeast1", "asia-south1"), 58.0),
        (("asia-southeast1", "australia-southeast1"), 92.0),
        (("asia-northeast1", "australia-southeast1"), 110.0),
        (("us-west1", "asia-northeast1"), 90.0),
        (("us-west1", "asia-east1"), 120.0),
        (("europe-west1", "asia-south1"), 120.0),
    )
}


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km between two (lat, lon) points in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def estimate_rtt_ms(distance_km: float) -> float:
    """RTT estimate for a fibre path between two points ``distance_km`` apart."""
    if distance_km <= 0:
        return 0.0
    return 2 * _PATH_STRETCH * distance_km / _KM_PER_MS_IN_FIBRE + _SWITCHING_MS
