"""The Kubernetes actuator: a region is a Deployment (or a Knative Service) to scale.

Through the official ``kubernetes`` client (its calls are blocking, so they
run in a worker thread):

* ``deployment`` mode: region ``r`` is the Deployment ``name_format.format(region=r)``;
  ``scale_to`` patches its ``scale`` subresource's ``spec.replicas``. The pods
  named in ``retire`` first get the annotation
  ``controller.kubernetes.io/pod-deletion-cost: "-1000"``, so the ReplicaSet
  controller removes exactly those when the count drops (it deletes the
  cheapest pods first). Their nodes get SIGTERM and drain as usual.
* ``knative`` mode: region ``r`` is the Knative Service of that name;
  ``scale_to`` pins ``autoscaling.knative.dev/min-scale`` and ``max-scale``
  on its revision template to ``count``. Knative picks which pods go, so
  ``retire`` is advisory there (the leader has already marked them draining).

Instances are the region's pods that are pending or running and not being
deleted (label ``ruvstream.io/region=<r>``, or Knative's
``serving.knative.dev/service=<name>``); a pod's name is its node id (run the
node with ``--node-id $(POD_NAME)``) and its address is ``http://<pod IP>:<port>``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .actuator import FencedActuator, Instance

__all__ = ["DELETION_COST", "KubernetesActuator"]

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_MIN_SCALE = "autoscaling.knative.dev/min-scale"
_MAX_SCALE = "autoscaling.knative.dev/max-scale"
_REGION_LABEL = "ruvstream.io/region"


class KubernetesActuator(FencedActuator):
    def __init__(
        self,
        api_client: Any,
        *,
        namespace: str = "default",
        mode: str = "deployment",
        name_format: str = "ruvstream-{region}",
        port: int = 8470,
    ) -> None:
        super().__init__()
        from kubernetes import client

        if mode not in ("deployment", "knative"):
            raise ValueError(f"unknown mode {mode!r}: deployment or knative")
        self.namespace = namespace
        self.mode = mode
        self.name_format = name_format
        self.port = port
        self._api_client = api_client
        self._core = client.CoreV1Api(api_client)
        self._apps = client.AppsV1Api(api_client)
        self._custom = client.CustomObjectsApi(api_client)

    @classmethod
    def from_kubeconfig(cls, **options: Any) -> KubernetesActuator:
        """In a pod: the service account; elsewhere: ``~/.kube/config``."""
        from kubernetes import client, config

        try:
            config.load_incluster_config()  # type: ignore[no-untyped-call]
        except config.ConfigException:
            config.load_kube_config()  # type: ignore[no-untyped-call]
        return cls(client.ApiClient(), **options)

    def name(self, region: str) -> str:
        return self.name_format.format(region=region)

    def _selector(self, region: str) -> str:
        if self.mode == "knative":
            return f"serving.knative.dev/service={self.name(region)}"
        return f"app.kubernetes.io/name=ruvstream,{_REGION_LABEL}={region}"

    async def instances(self, region: str) -> list[Instance]:
        pods = await asyncio.to_thread(
            self._core.list_namespaced_pod, self.namespace, label_selector=self._selector(region)
        )
        found = []
        for pod in pods.items:
            meta = pod.metadata
            if meta is None or not meta.name or meta.deletion_timestamp is not None:
                continue
            if pod.status is None or pod.status.phase not in ("Pending", "Running"):
                continue
            ip = pod.status.pod_ip
            address = f"http://{ip}:{self.port}" if ip else None
            found.append(Instance(str(meta.name), region, address))
        return sorted(found, key=lambda i: i.id)

    async def _resize(
        self, region: str, count: int, retire: tuple[str, ...], peer: str | None
    ) -> None:
        if self.mode == "knative":
            await asyncio.to_thread(self._pin_knative_scale, region, count)
            return
        for pod in retire:
            body = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"annotations": {DELETION_COST: "-1000"}},
            }
            await asyncio.to_thread(self._core.patch_namespaced_pod, pod, self.namespace, body)
        scale = {"apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replicas": count}}
        await asyncio.to_thread(
            self._apps.patch_namespaced_deployment_scale, self.name(region), self.namespace, scale
        )

    def _pin_knative_scale(self, region: str, count: int) -> None:
        annotations = {_MIN_SCALE: str(count), _MAX_SCALE: str(count)}
        body = {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "spec": {"template": {"metadata": {"annotations": annotations}}},
        }
        self._custom.patch_namespaced_custom_object(
            "serving.knative.dev", "v1", self.namespace, "services", self.name(region), body
        )

    async def close(self) -> None:
        await asyncio.to_thread(self._api_client.close)
