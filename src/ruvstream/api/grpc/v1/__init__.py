"""Generated from ``proto/ruvstream/v1/vector_search.proto`` by ``ruvstream.api.grpc.codegen``.

Do not edit these files: change the proto and regenerate.
"""

from ruvstream.api.grpc.v1 import vector_search_pb2, vector_search_pb2_grpc

__all__ = ["vector_search_pb2", "vector_search_pb2_grpc"]
