#!/usr/bin/env bash
# One step of the Cloud Run canary (deploy/pipeline/cloudbuild.yaml):
#   canary.sh record-stable | shift PERCENT | gate PERCENT | rollback | promote
# Environment: SERVICE, REGION; STATE_DIR (default /workspace) keeps the stable
# revision between build steps; GATE_ARGS are extra health_gate.py arguments.
# A failing shift or gate rolls all traffic back to the stable revision first.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
state="${STATE_DIR:-/workspace}/stable-revision"
: "${SERVICE:?SERVICE is required}" "${REGION:?REGION is required}"

describe() {
    gcloud run services describe "$SERVICE" --region "$REGION" --format=json
}

# The revision that serves 100% now (before the canary), or the tag's URL.
traffic_field() {
    python3 -c '
import json, sys
traffic = json.load(sys.stdin)["status"]["traffic"]
want = sys.argv[1]
if want == "stable":
    print(next(t["revisionName"] for t in traffic if t.get("percent") == 100))
else:
    print(next(t["url"] for t in traffic if t.get("tag") == want))
' "$1"
}

rollback() {
    local stable
    stable="$(cat "$state")"
    echo "canary: rolling back: all traffic to $stable" >&2
    gcloud run services update-traffic "$SERVICE" --region "$REGION" --to-revisions="$stable=100"
    gcloud run services update-traffic "$SERVICE" --region "$REGION" --remove-tags=canary
}

case "${1:-}" in
    record-stable)
        describe | traffic_field stable > "$state"
        echo "canary: stable revision $(cat "$state")"
        ;;
    shift)
        percent="${2:?percent}"
        echo "canary: $percent% to the canary"
        if ! gcloud run services update-traffic "$SERVICE" --region "$REGION" --to-tags="canary=$percent"; then
            rollback
            exit 1
        fi
        ;;
    gate)
        percent="${2:?percent}"
        url="$(describe | traffic_field canary)"
        echo "canary: gate at $percent% on $url"
        # shellcheck disable=SC2086 # GATE_ARGS is a list of arguments
        if ! python3 "$here/health_gate.py" --url "$url" ${GATE_ARGS:-}; then
            rollback
            exit 1
        fi
        ;;
    rollback)
        rollback
        ;;
    promote)
        gcloud run services update-traffic "$SERVICE" --region "$REGION" --to-latest
        gcloud run services update-traffic "$SERVICE" --region "$REGION" --remove-tags=canary
        echo "canary: promoted"
        ;;
    *)
        echo "usage: canary.sh record-stable | shift PERCENT | gate PERCENT | rollback | promote" >&2
        exit 2
        ;;
esac
