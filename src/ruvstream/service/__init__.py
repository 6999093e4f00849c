"""The node's use cases, called by every transport: the one path per request.

    transport (REST, SSE, WebSocket, node HTTP protocol; gRPC next)
        decode   wire -> Fields (a JSON object's fields), ids, packed rows, a key
        call     NodeService: search / start_search / search_batch, upsert /
                 upsert_packed, delete / delete_record, subscribe /
                 subscription / unsubscribe, create_collection / list_collections /
                 collection_info / drop_collection, get_record
        encode   the answer body (a dict), or the error via ``ruvstream.error_map``

The service checks input (``queries``, ``records``), replays idempotent
writes, times and counts searches and shapes answers (``answers``), so no
transport repeats any of it. It never sees a framework request object.

Plugging in a transport, gRPC for instance: a decoder from its messages to
``Fields`` (or ids and packed rows for bulk writes), calls to ``NodeService``
methods, an encoder from the answer dicts to its messages, and
``error_map.grpc_status`` for failures. A transport that answers searches
from callbacks, as the node HTTP protocol and the WebSocket do, uses
``start_search`` and ``PendingSearch.then``; one that awaits uses ``search``.
"""

from ruvstream.service.node_service import NodeService, WriteAnswer
from ruvstream.service.queries import MAX_BATCH_QUERIES, MAX_ID_LENGTH, Fields, check_id
from ruvstream.service.records import MAX_RECORDS_PER_WRITE
from ruvstream.service.search import PendingSearch

__all__ = [
    "MAX_BATCH_QUERIES",
    "MAX_ID_LENGTH",
    "MAX_RECORDS_PER_WRITE",
    "Fields",
    "NodeService",
    "PendingSearch",
    "WriteAnswer",
    "check_id",
]
