"""gRPC answers to the same keys as HTTP: Bearer metadata, scopes and collection patterns."""

from __future__ import annotations

from pathlib import Path

import grpc
import httpx
import pytest

from ruvstream.api.grpc.v1 import vector_search_pb2 as pb
from ruvstream.api.grpc.v1 import vector_search_pb2_grpc as pb_grpc
from tests.grpc.conftest import grpc_node_at
from tests.grpc.test_session import Stream, _record
from tests.node.test_auth import create_key


def bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


async def test_grpc_calls_need_a_key_within_its_scopes(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    admin = create_key(keys, "--scopes", "admin", "--name", "admin")
    reader = create_key(keys, "--scopes", "read", "--name", "reader")
    team = create_key(keys, "--scopes", "read,write", "--collections", "team-*", "--name", "t")
    with grpc_node_at(tmp_path / "node", "--api-keys", str(keys)) as node:
        async with httpx.AsyncClient(base_url=node.url, headers={"X-API-Key": admin}) as http:
            for name in ("c", "team-a"):
                created = await http.put(f"/v1/collections/{name}", json={"dim": 2})
                assert created.status_code == 201, created.text
        search = pb.SearchRequest(collection="c", vector=[1.0, 0.0], k=1)
        async with grpc.aio.insecure_channel(node.target) as channel:
            stub = pb_grpc.VectorSearchStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Search(search)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Search(search, metadata=bearer("rvs_000000000000_wrong"))
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Search(search, metadata=bearer(team))
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
            answer = await stub.Search(search, metadata=bearer(reader))
            assert list(answer.hits) == []

            # A Session opens with any issued key; each request is checked as its op.
            stream = Stream(stub, metadata=bearer(reader))
            upsert = pb.UpsertRequest(collection="c", records=[_record("r", [1.0, 0.0])])
            stream.send(pb.SessionRequest(request_id="w", upsert=upsert))
            refused = await stream.reply()
            assert refused.request_id == "w"
            assert (refused.error.code, refused.error.status) == ("forbidden", "PERMISSION_DENIED")
            stream.send(pb.SessionRequest(request_id="s", search=search))
            assert (await stream.reply()).HasField("search")
            stream.send(None)

            team_stream = Stream(stub, metadata=bearer(team))
            upsert = pb.UpsertRequest(collection="team-a", records=[_record("r", [1.0, 0.0])])
            team_stream.send(pb.SessionRequest(request_id="own", upsert=upsert))
            assert (await team_stream.reply()).HasField("upsert")
            team_stream.send(None)

            with pytest.raises(grpc.aio.AioRpcError) as caught:
                keyless = Stream(stub)
                await keyless.reply()
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
