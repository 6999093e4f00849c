"""TLS for the SDK: certificates are verified unless the caller says otherwise.

Trusted by default: the certifi bundle, as httpx trusts. ``ca_file`` adds a
private CA (a node's self-signed or company certificate) to it;
``verify=False`` turns checking off, for a throwaway test only. One context
serves HTTP (httpx) and WebSocket (websockets).
"""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi

__all__ = ["client_ssl_context"]


def client_ssl_context(verify: bool = True, ca_file: str | Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
