"""A page opened in real headless Chromium (Debian's), offline, with what went wrong on it."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]
_LOCAL = ("file:", "data:", "blob:")


@contextlib.contextmanager
def offline_page(path: Path, *, timeout_ms: int) -> Iterator[tuple[Any, list[str]]]:
    """``path`` loaded and rendered (``body[data-rendered='true']``), and a list that
    collects console errors, page errors and any request that leaves the machine."""
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "request",
                lambda r: None if r.url.startswith(_LOCAL) else problems.append(f"network {r.url}"),
            )
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-rendered='true']", timeout=timeout_ms)
            yield page, problems
        finally:
            browser.close()
