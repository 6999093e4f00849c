#!/usr/bin/env python3
"""Health gate between canary steps: is the new revision healthy enough to get more traffic?

Takes ``--samples`` readings ``--interval`` seconds apart from the revision's own
URL (Cloud Run's tag URL reaches only that revision). Each reading must show:

- ``GET /health`` answering 200 with ``"status": "ok"`` (``degraded`` means
  replication lag past its bound: not a revision to promote);
- in ``GET /metrics``, a 5xx share of HTTP answers at most ``--max-error-ratio``
  and a search p99 at most ``--max-search-p99`` seconds, each judged once the
  instance has answered ``--min-requests``.

Counters are read cumulatively per instance (since it started, i.e. since the
revision was deployed), never subtracted across readings: consecutive readings
may come from different instances of the revision.

Exit 0 when every reading passes, 1 at the first that fails (with the reason).
Standard library only: it runs in the gcloud builder image.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Sample = tuple[str, dict[str, str], float]


@dataclass(frozen=True)
class Limits:
    max_error_ratio: float = 0.01
    max_search_p99: float = 0.1
    min_requests: int = 20


def parse_exposition(text: str) -> list[Sample]:
    """Samples of a Prometheus text exposition: (name, labels, value)."""
    samples = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match:
            labels = dict(_LABEL.findall(match.group(2) or ""))
            samples.append((match.group(1), labels, float(match.group(3))))
    return samples


def error_ratio(samples: Iterable[Sample]) -> tuple[float, float]:
    """(5xx answers, all answers) from ``ruvstream_http_requests_total``."""
    errors = total = 0.0
    for name, labels, value in samples:
        if name == "ruvstream_http_requests_total":
            total += value
            if labels.get("status", "").startswith("5"):
                errors += value
    return errors, total


def histogram_quantile(samples: Iterable[Sample], metric: str, q: float) -> tuple[float, float]:
    """(upper bound of the bucket holding quantile ``q``, observation count)."""
    buckets: dict[float, float] = {}
    for name, labels, value in samples:
        if name == f"{metric}_bucket":
            bound = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            buckets[bound] = buckets.get(bound, 0.0) + value
    if not buckets:
        return 0.0, 0.0
    count = buckets.get(math.inf, max(buckets.values()))
    for bound in sorted(buckets):
        if count and buckets[bound] >= q * count:
            return bound, count
    return math.inf, count


def judge(health_status: int, health: dict[str, object], metrics: str, limits: Limits) -> list[str]:
    """Why this reading fails the gate (empty: it passes)."""
    problems = []
    if health_status != 200:
        problems.append(f"/health answered {health_status}")
    elif health.get("status") != "ok":
        problems.append(f"/health says {health.get('status')!r}")
    samples = parse_exposition(metrics)
    errors, total = error_ratio(samples)
    if total >= limits.min_requests and errors / total > limits.max_error_ratio:
        problems.append(f"5xx ratio {errors / total:.4f} over {limits.max_error_ratio}")
    p99, searches = histogram_quantile(samples, "ruvstream_search_latency_seconds", 0.99)
    if searches >= limits.min_requests and p99 > limits.max_search_p99:
        problems.append(f"search p99 up to {p99} s over {limits.max_search_p99} s")
    return problems


def _get(url: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def reading(url: str, headers: dict[str, str], limits: Limits, timeout: float) -> list[str]:
    try:
        status, body = _get(f"{url}/health", headers, timeout)
        health = json.loads(body) if status == 200 else {}
        _, metrics = _get(f"{url}/metrics", headers, timeout)
    except (OSError, ValueError) as exc:
        return [f"unreachable: {exc}"]
    return judge(status, health, metrics.decode(), limits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True, help="base URL of the revision")
    parser.add_argument("--samples", type=int, default=6)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between readings")
    parser.add_argument("--max-error-ratio", type=float, default=Limits.max_error_ratio)
    parser.add_argument("--max-search-p99", type=float, default=Limits.max_search_p99)
    parser.add_argument("--min-requests", type=int, default=Limits.min_requests)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument(
        "--header", action="append", default=[], help="'Name: value' sent with each request"
    )
    args = parser.parse_args(argv)
    headers = dict(h.split(": ", 1) for h in args.header)
    limits = Limits(args.max_error_ratio, args.max_search_p99, args.min_requests)
    for number in range(1, args.samples + 1):
        problems = reading(args.url.rstrip("/"), headers, limits, args.timeout)
        if problems:
            print(f"gate: reading {number}/{args.samples} FAILS: {'; '.join(problems)}")
            return 1
        print(f"gate: reading {number}/{args.samples} ok")
        if number < args.samples:
            time.sleep(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
