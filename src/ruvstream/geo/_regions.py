"""The 15 regions of the service: where they are and which hub serves them.

Data, not behaviour. Coordinates are the cities that host the cloud regions of
the same name (rounded to 0.01 degree). ``tier`` 1 marks the five hubs that
carry most of the traffic; every tier-2 region names the hub it leans on
(replica placement and spillover follow it).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REGIONS", "Region"]


@dataclass(frozen=True, slots=True)
class Region:
    """One region. Invariant: a hub is its own ``hub``; tier is 1 or 2."""

    name: str
    city: str
    continent: str
    lat: float
    lon: float
    tier: int
    hub: str


def _r(name: str, city: str, continent: str, lat: float, lon: float, hub: str) -> Region:
    return Region(name, city, continent, lat, lon, 1 if hub == name else 2, hub)


REGIONS: tuple[Region, ...] = (
    _r("us-central1", "Council Bluffs", "americas", 41.26, -95.86, "us-central1"),
    _r("us-east1", "Moncks Corner", "americas", 33.20, -80.01, "us-central1"),
    _r("us-west1", "The Dalles", "americas", 45.60, -121.18, "us-central1"),
    _r("northamerica-northeast1", "Montreal", "americas", 45.50, -73.57, "us-central1"),
    _r("southamerica-east1", "Sao Paulo", "americas", -23.55, -46.63, "southamerica-east1"),
    _r("europe-west1", "Saint-Ghislain", "europe", 50.45, 3.82, "europe-west1"),
    _r("europe-west2", "London", "europe", 51.51, -0.13, "europe-west1"),
    _r("europe-west3", "Frankfurt", "europe", 50.11, 8.68, "europe-west1"),
    _r("europe-north1", "Hamina", "europe", 60.57, 27.20, "europe-west1"),
    _r("me-west1", "Tel Aviv", "mena", 32.09, 34.78, "europe-west1"),
    _r("asia-northeast1", "Tokyo", "apac", 35.68, 139.69, "asia-northeast1"),
    _r("asia-southeast1", "Singapore", "apac", 1.35, 103.82, "asia-southeast1"),
    _r("asia-east1", "Changhua", "apac", 24.05, 120.52, "asia-northeast1"),
    _r("asia-south1", "Mumbai", "apac", 19.08, 72.88, "asia-southeast1"),
    _r("australia-southeast1", "Sydney", "apac", -33.87, 151.21, "asia-southeast1"),
)
