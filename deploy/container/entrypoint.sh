#!/bin/sh
# Container entrypoint: `ruvstream "$@"`, after seeding an empty data dir from a peer.
#
# When RUVSTREAM_BOOTSTRAP_PEER names a running node of the same region and the
# command is `serve` on an empty data dir (a new StatefulSet pod, a Knative or
# Cloud Run instance), the node starts from that peer's snapshot plus the stream
# after it, instead of replaying the whole stream (which may be trimmed).
# If the peer cannot be reached the node starts empty and replays the stream,
# unless RUVSTREAM_BOOTSTRAP_REQUIRED=1, which makes that an error (the platform
# restarts the container and it tries again).
set -eu

data_dir="${RUVSTREAM_DATA_DIR:-/var/lib/ruvstream}"

is_empty() {
    for entry in "$data_dir"/snapshots/snap-* "$data_dir"/wal/wal-*.log; do
        [ -s "$entry" ] || [ -d "$entry" ] && return 1
    done
    return 0
}

if [ "${1:-}" = serve ] && [ -n "${RUVSTREAM_BOOTSTRAP_PEER:-}" ] && is_empty; then
    echo "ruvstream-entrypoint: seeding $data_dir from $RUVSTREAM_BOOTSTRAP_PEER" >&2
    if ! ruvstream cluster bootstrap --peer "$RUVSTREAM_BOOTSTRAP_PEER" --data-dir "$data_dir"; then
        if [ "${RUVSTREAM_BOOTSTRAP_REQUIRED:-0}" = 1 ]; then
            echo "ruvstream-entrypoint: bootstrap failed and is required" >&2
            exit 1
        fi
        echo "ruvstream-entrypoint: bootstrap failed; starting empty (the stream fills it)" >&2
    fi
fi

exec ruvstream "$@"
