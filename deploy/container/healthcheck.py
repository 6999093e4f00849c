#!/usr/bin/env python3
"""Container health check: exit 0 when ``$RUVSTREAM_HEALTH_URL`` answers 200, else 1.

The slim image has no curl; this uses the standard library only. The router
image overrides the URL (``RUVSTREAM_HEALTH_URL=http://127.0.0.1:8080/health``).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8470/health"


def check(url: str, timeout: float = 4.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(0 if check(os.environ.get("RUVSTREAM_HEALTH_URL", DEFAULT_URL)) else 1)
