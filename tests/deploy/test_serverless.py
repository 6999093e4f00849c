"""Knative and Cloud Run services: not core kinds, so checked against JSON schemas
written from the Knative Serving API reference and Cloud Run's YAML reference;
the PodSpec inside each revision is checked against the Kubernetes Pod schema."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from referencing import Registry, Resource

from .conftest import DEPLOY, load_documents

SCHEMAS = Path(__file__).parent / "schemas"
KNATIVE = DEPLOY / "knative" / "service.yaml"
CLOUDRUN = DEPLOY / "cloudrun" / "service.yaml"
# RevisionSpec fields beside the embedded PodSpec.
_REVISION_ONLY = (
    "containerConcurrency",
    "timeoutSeconds",
    "responseStartTimeoutSeconds",
    "idleTimeoutSeconds",
)


def _schema(name: str) -> tuple[dict[str, Any], Registry]:
    schemas = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    registry = Registry().with_resources(
        (name, Resource.from_contents(body)) for name, body in schemas.items()
    )
    return schemas[name], registry


def _validate(doc: dict[str, Any], schema_name: str) -> None:
    schema, registry = _schema(schema_name)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, registry=registry).validate(doc)


def _service(path: Path) -> dict[str, Any]:
    (doc,) = load_documents(path)
    return doc


def _as_pod(service: dict[str, Any]) -> dict[str, Any]:
    """The revision's PodSpec as a Pod; Knative defaults a probe's port to the serving port."""
    spec = copy.deepcopy(service["spec"]["template"]["spec"])
    for key in _REVISION_ONLY:
        spec.pop(key, None)
    for container in spec["containers"]:
        port = container["ports"][0]["containerPort"]
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in container:
                container[probe]["httpGet"].setdefault("port", port)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "revision"}, "spec": spec}


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)(ms|s|m|h)", duration))


@pytest.mark.parametrize(
    ("path", "schema"),
    [(KNATIVE, "knative-service.schema.json"), (CLOUDRUN, "cloudrun-service.schema.json")],
    ids=["knative", "cloudrun"],
)
def test_service_matches_its_schema_and_its_pod_spec_the_kubernetes_one(
    path: Path, schema: str
) -> None:
    service = _service(path)
    _validate(service, schema)
    kubernetes_validate.validate(_as_pod(service), "1.37.0", strict=True)


def test_schema_refuses_what_knative_refuses() -> None:
    service = _service(KNATIVE)
    for damage in (
        lambda s: s["spec"]["template"]["spec"].update(containerConcurrency=5000),
        lambda s: s["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(name="web"),
        lambda s: s["spec"]["template"]["metadata"]["annotations"].update(
            {"autoscaling.knative.dev/windw": "60s"}
        ),
        lambda s: s["spec"]["template"]["metadata"]["annotations"].update(
            {"autoscaling.knative.dev/window": "a minute"}
        ),
    ):
        broken = copy.deepcopy(service)
        damage(broken)
        with pytest.raises(jsonschema.ValidationError):
            _validate(broken, "knative-service.schema.json")


def test_knative_autoscaling_is_the_kpa_with_the_agreed_windows() -> None:
    template = _service(KNATIVE)["spec"]["template"]
    notes = template["metadata"]["annotations"]
    get = lambda key: notes[f"autoscaling.knative.dev/{key}"]  # noqa: E731
    assert get("class") == "kpa.autoscaling.knative.dev" and get("metric") == "concurrency"
    window = _seconds(get("window"))
    assert window == 60
    assert window * float(get("panic-window-percentage")) / 100 == 6
    assert float(get("panic-threshold-percentage")) == 200
    assert 0 < int(get("min-scale")) <= int(get("initial-scale")) <= int(get("max-scale"))
    concurrency = template["spec"]["containerConcurrency"]
    assert float(get("target")) <= concurrency
    # The node refuses past its connection limit exactly where Knative stops sending.
    args = template["spec"]["containers"][0]["args"]
    assert f"--max-connections={concurrency}" in args
    # min-scale > 0 and no burst capacity: the activator never relays a stream.
    assert get("target-burst-capacity") == "0"


def test_cloud_run_limits_and_their_consequences_are_set() -> None:
    service = _service(CLOUDRUN)
    template = service["spec"]["template"]
    notes = template["metadata"]["annotations"]
    assert template["spec"]["containerConcurrency"] == 1000
    assert template["spec"]["timeoutSeconds"] == 3600
    assert notes["run.googleapis.com/startup-cpu-boost"] == "true"
    assert notes["run.googleapis.com/sessionAffinity"] == "true"
    # CPU stays allocated: the replication consumer runs between requests.
    assert notes["run.googleapis.com/cpu-throttling"] == "false"
    assert (
        1
        <= int(notes["autoscaling.knative.dev/minScale"])
        <= int(notes["autoscaling.knative.dev/maxScale"])
    )
    container = template["spec"]["containers"][0]
    assert "--max-connections=1000" in container["args"]
    data = next(v for v in template["spec"]["volumes"] if v["name"] == "data")
    assert data["emptyDir"]["medium"] == "Memory"
    region = service["metadata"]["labels"]["cloud.googleapis.com/location"]
    assert f"--region={region}" in container["args"]
