"""Checks the bounded contract run loads (``SCHEMATHESIS_HOOKS``), beside the built-in ones.

``positive_data_acceptance`` holds that a request valid by the schema is
accepted. One rule of the API no static schema can state: a vector must be
as long as its collection's ``dim``, which each collection fixes at its
creation. So the run replaces that one check with this one, which is the
same check except that a 400 ``dimension_mismatch`` counts as accepted
data; every other refusal of schema-valid data still fails the run.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance


def _dimension_mismatch(response: Any) -> bool:
    if response.status_code != 400:
        return False
    try:
        return bool(response.json()["error"]["code"] == "dimension_mismatch")
    except (ValueError, KeyError, TypeError):
        return False


@schemathesis.check
def positive_data_acceptance_but_dim(ctx: Any, response: Any, case: Any) -> bool | None:
    if _dimension_mismatch(response):
        return None
    result: bool | None = positive_data_acceptance(ctx, response, case)
    return result
