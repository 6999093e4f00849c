"""Region geography: the 15 regions, their coordinates and inter-region RTTs.

Pure data and arithmetic (no I/O), shared by the router, replication and the
simulator. ``rtt_ms`` answers from a table of typical figures and estimates
missing pairs from the great-circle distance.
"""

from ._geography import distance_km, nearest_region, rank_by_rtt, region, region_names, rtt_ms
from ._regions import REGIONS, Region
from ._rtt import MEASURED_RTT_MS, estimate_rtt_ms, great_circle_km

__all__ = [
    "MEASURED_RTT_MS",
    "REGIONS",
    "Region",
    "distance_km",
    "estimate_rtt_ms",
    "great_circle_km",
    "nearest_region",
    "rank_by_rtt",
    "region",
    "region_names",
    "rtt_ms",
]
