"""Kubernetes manifests: valid against the Kubernetes schemas (strict: no unknown
fields), rendered by kustomize, and consistent with each other and the product
(probes on the routes the processes serve, non-root, volumes where args point)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from .conftest import DEPLOY, load_documents

K8S_VERSION = "1.37.0"
BASE = DEPLOY / "kubernetes" / "base"
OVERLAYS = sorted(
    p.parent for p in (DEPLOY / "kubernetes" / "overlays").glob("*/kustomization.yaml")
)
MANIFESTS = sorted(p for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml")


def _base_objects() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in load_documents(path)]


def _find(kind: str, name: str) -> dict[str, Any]:
    return next(d for d in _base_objects() if d["kind"] == kind and d["metadata"]["name"] == name)


def _workloads() -> list[dict[str, Any]]:
    return [d for d in _base_objects() if d["kind"] in ("Deployment", "StatefulSet")]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_manifest_validates_strictly(path: Path) -> None:
    for doc in load_documents(path):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_rejects_an_unknown_field() -> None:
    statefulset = _find("StatefulSet", "ruvstream-node")
    statefulset["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(statefulset, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) absent")
@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_each_overlay_renders_and_validates(overlay: Path) -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=True
    ).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    assert len(docs) == len(_base_objects())
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "ruvstream"
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert config["data"]["RUVSTREAM_REGION"] == overlay.name
    images = {
        c["image"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert len(images) == 1 and images.pop().endswith("/ruvstream:0.1.0")


def test_workloads_run_non_root_read_only_without_privileges() -> None:
    for workload in _workloads():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert context["runAsUser"] >= 10000
            assert {"requests", "limits"} <= set(container["resources"])
            # A read-only root needs a writable /tmp.
            assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}


def test_probes_use_ready_for_readiness_and_health_for_liveness() -> None:
    for name in ("ruvstream-node", "ruvstream-router"):
        workload = next(w for w in _workloads() if w["metadata"]["name"] == name)
        container = workload["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"


def _arg(args: list[str], flag: str) -> str:
    return next(a.split("=", 1)[1] for a in args if a.startswith(flag + "="))


def test_node_data_dir_is_its_claim_and_keys_come_from_the_secret() -> None:
    node = _find("StatefulSet", "ruvstream-node")
    pod = node["spec"]["template"]["spec"]
    container = pod["containers"][0]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {t["metadata"]["name"] for t in node["spec"]["volumeClaimTemplates"]}
    assert mounts[_arg(container["args"], "--data-dir")] in claims
    keys = Path(_arg(container["args"], "--api-keys"))
    volume = next(v for v in pod["volumes"] if v["name"] == mounts[str(keys.parent)])
    assert volume["secret"]["secretName"] == "ruvstream-api-keys"


def test_config_references_resolve_and_services_select_pods() -> None:
    config = _find("ConfigMap", "ruvstream-config")["data"]
    pods = [w["spec"]["template"]["metadata"]["labels"] for w in _workloads()]
    for workload in _workloads():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("configMapKeyRef")
                if ref:
                    assert ref["name"] == "ruvstream-config" and ref["key"] in config
    for service in (d for d in _base_objects() if d["kind"] == "Service"):
        selector = service["spec"].get("selector")
        if selector is None:
            assert service["spec"]["type"] == "ExternalName"
            continue
        assert any(selector.items() <= labels.items() for labels in pods), service
    for budget in (d for d in _base_objects() if d["kind"] == "PodDisruptionBudget"):
        match = budget["spec"]["selector"]["matchLabels"]
        assert sum(match.items() <= labels.items() for labels in pods) == 1, budget


def test_router_targets_exactly_the_node_pods_and_the_hpa_targets_the_router() -> None:
    node = _find("StatefulSet", "ruvstream-node")
    router = _find("Deployment", "ruvstream-router")
    args = router["spec"]["template"]["spec"]["containers"][0]["args"]
    targets = [a.split("=", 1)[1] for a in args if a.startswith("--node=")]
    service = node["spec"]["serviceName"]
    expected = [
        f"$(RUVSTREAM_REGION)=http://ruvstream-node-{i}.{service}:8470;name=ruvstream-node-{i}"
        for i in range(node["spec"]["replicas"])
    ]
    assert targets == expected
    assert _find("Service", service)["spec"]["clusterIP"] == "None"
    hpa = _find("HorizontalPodAutoscaler", "ruvstream-router")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "ruvstream-router",
    }
    assert hpa["spec"]["minReplicas"] <= router["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]


def test_only_the_control_plane_holds_an_api_token_and_its_role_is_namespaced() -> None:
    for workload in _workloads():
        pod = workload["spec"]["template"]["spec"]
        account = _find("ServiceAccount", pod["serviceAccountName"])
        mounted = pod.get("automountServiceAccountToken", account["automountServiceAccountToken"])
        assert mounted == (workload["metadata"]["name"] == "ruvstream-control")
    role = _find("Role", "ruvstream-control")
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"]
        assert not {"delete", "create"} & set(rule["verbs"])
