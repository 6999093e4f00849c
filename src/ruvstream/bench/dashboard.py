"""A self-contained HTML dashboard for one run: no network needed to open it.

The page is ``dashboard.html`` (inline CSS and JS, charts drawn as inline
SVG) with the run's ``result.json`` embedded in a JSON script tag. Once
drawn it sets ``data-rendered="true"`` on ``<body>``, which the browser test
waits for.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

__all__ = ["render"]


def render(result: dict[str, Any]) -> str:
    template = resources.files("ruvstream.bench").joinpath("dashboard.html").read_text()
    # "</" inside the embedded JSON would end the script element early.
    data = json.dumps(result, sort_keys=True).replace("</", "<\\/")
    title = html.escape(str(result["scenario"]["title"]))
    return template.replace("__TITLE__", title).replace("__DATA__", data)
