"""Where a client is: a header, its address, or the configured default.

Resolution order, first match wins:

1. ``X-Client-Region: <region>`` naming a region the router serves or the
   geography knows;
2. ``X-Client-Location: <lat>,<lon>`` mapped to the nearest known region;
3. the source address inside one of the configured networks (``CIDR=region``);
4. the default region.

Bad header values are ignored (fall through), never an error: location is a
hint for latency, not a contract.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from ruvstream.geo import nearest_region, region_names

__all__ = ["ClientLocator"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientLocator:
    def __init__(
        self,
        default_region: str,
        served_regions: Iterable[str],
        networks: Mapping[str, str] | None = None,
    ) -> None:
        self.default_region = default_region
        self._known = set(served_regions) | set(region_names())
        self._networks: list[tuple[Network, str]] = sorted(
            ((ipaddress.ip_network(cidr, strict=False), r) for cidr, r in (networks or {}).items()),
            key=lambda pair: -pair[0].prefixlen,
        )

    def locate(self, headers: Mapping[str, str], client_ip: str | None) -> str:
        named = headers.get("x-client-region", "").strip()
        if named in self._known:
            return named
        point = _parse_point(headers.get("x-client-location", ""))
        if point is not None:
            return nearest_region(*point)
        if client_ip and self._networks:  # parsing the address costs a request time
            try:
                address = ipaddress.ip_address(client_ip)
            except ValueError:
                address = None
            for network, region in self._networks:
                if address is not None and address in network:
                    return region
        return self.default_region


def _parse_point(text: str) -> tuple[float, float] | None:
    if not text:  # the usual case: no header, and no exception to raise and catch
        return None
    try:
        lat_text, lon_text = text.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon
    return None
