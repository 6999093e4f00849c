"""A loopback Kubernetes API that replays a recorded conversation and checks each request.

The cassettes in ``k8s/`` were written from the Kubernetes API reference
(PodList, Pod, autoscaling/v1 Scale) and Knative Serving's v1 Service. Each
exchange names the request it expects (method, path, query) and, for
writes, the body, which is also validated against the OpenAPI schemas
bundled with ``kubernetes-validate`` (offline, strict: unknown fields fail).
A Knative Service has no bundled schema: its revision template's metadata
is checked against ``ObjectMeta``. The real ``kubernetes`` client talks to
it over real HTTP and deserializes the recorded answers.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import kubernetes_validate
from kubernetes_validate.utils import schema_contents

CASSETTES = Path(__file__).parent / "k8s"
K8S_VERSION = "1.37"


def check_schema(kind: str, body: dict[str, Any]) -> None:
    if kind == "kubernetes":
        kubernetes_validate.validate(body, K8S_VERSION, strict=True)
        return
    if kind == "knative-service":
        definitions = schema_contents(
            f"kubernetes-json-schema/v{K8S_VERSION}.0-local-strict/_definitions.json", K8S_VERSION
        )
        schema = {
            "$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "$defs": definitions["$defs"],
        }
        jsonschema.Draft202012Validator(schema).validate(body["spec"]["template"]["metadata"])
        assert set(body) <= {"apiVersion", "kind", "metadata", "spec"}
        assert body["apiVersion"] == "serving.knative.dev/v1" and body["kind"] == "Service"
        return
    raise AssertionError(f"unknown schema {kind}")


class Replay:
    def __init__(self, cassette: str) -> None:
        self.exchanges: list[dict[str, Any]] = json.loads(
            (CASSETTES / f"{cassette}.json").read_text()
        )
        self.errors: list[str] = []
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, answer = replay.answer(self.command, self.path, raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, method: str, target: str, raw: bytes) -> tuple[int, Any]:
        with self._lock:
            parts = urlsplit(target)
            self.seen.append((method, target))
            if not self.exchanges:
                return self._refuse(f"unexpected request {method} {target}")
            expected = self.exchanges.pop(0)
            want = expected["request"]
            if (method, parts.path) != (want["method"], want["path"]):
                return self._refuse(
                    f"expected {want['method']} {want['path']}, got {method} {target}"
                )
            query = dict(parse_qsl(parts.query))
            for key, value in want.get("query", {}).items():
                if query.get(key) != value:
                    return self._refuse(f"{target}: query {key}={query.get(key)!r}, want {value!r}")
            if "body" in want:
                body = json.loads(raw or b"null")
                if body != want["body"]:
                    return self._refuse(f"{target}: body {body!r}, want {want['body']!r}")
                try:
                    check_schema(want["schema"], body)
                except Exception as exc:
                    return self._refuse(f"{target}: body fails the schema: {exc}")
            response = expected["response"]
            return int(response["status"]), response["body"]

    def _refuse(self, error: str) -> tuple[int, Any]:
        self.errors.append(error)
        status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": error}
        return 400, {**status, "reason": "BadRequest", "code": 400}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def check_finished(self) -> None:
        assert not self.errors, self.errors
        assert not self.exchanges, f"requests never made: {self.exchanges}"
