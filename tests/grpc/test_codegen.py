"""The committed stubs are what the proto makes: regenerating changes nothing."""

from __future__ import annotations

import pytest

from ruvstream.api.grpc import codegen
from ruvstream.api.grpc.v1 import vector_search_pb2 as pb


def test_regenerating_the_stubs_makes_no_diff() -> None:
    pytest.importorskip("grpc_tools", reason="regenerating needs the dev extra (grpcio-tools)")
    for name, text in codegen.generate().items():
        committed = (codegen.GENERATED / name).read_text()
        assert committed == text, f"{name} is stale: run {codegen.__name__} (see its docstring)"


def test_the_wire_names_are_the_protos() -> None:
    assert pb.DESCRIPTOR.name == codegen.PROTO
    assert pb.DESCRIPTOR.package == "ruvstream.v1"
    assert pb.SearchRequest.__module__ == "ruvstream.api.grpc.v1.vector_search_pb2"
    methods = pb.DESCRIPTOR.services_by_name["VectorSearch"].methods_by_name
    assert {n: (m.client_streaming, m.server_streaming) for n, m in methods.items()} == {
        "Search": (False, False),
        "StreamSearch": (False, True),
        "Session": (True, True),
    }
