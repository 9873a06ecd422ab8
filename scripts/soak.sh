#!/usr/bin/env bash
# The long form of the fault soak (examples/tests/soak.rs, driving the reference
# integrations ws_to_postgres and mqtt_workers):
#   scripts/soak.sh [SECONDS] [COUNTERS] [WORKERS] [RATE] [SEED]
# SECONDS of pushing with kill -9 faults per path (default 600), COUNTERS simulated counters
# (default 200), WORKERS processes per path (default 3), RATE events per counter per second
# (default 10), SEED (default: random; printed either way). Runs WebSocket behind a load
# balancer, MQTT QoS 1 (exact), MQTT QoS 1 with broker crashes and MQTT QoS 0 (reported)
# against one private PostgreSQL and one private mosquitto; FFC_SOAK_PATHS picks some.
#
# With --nats first: the NATS soak (examples/ffc/tests/nats_soak.rs) instead, against the
# 3-node cluster of scripts/services.d/50-nats.sh:
#   scripts/soak.sh --nats [SECONDS] [COUNTERS] [RATE] [THROUGHPUT_EVENTS]
# WebSocket and MQTT (QoS 0, /status/<serial>) counters while kill -9 hits each NATS node
# (the stream's leader first, then the MQTT counters' node), a receiver, a bridge, a worker
# and PostgreSQL; then events/s with 1, 2 and 4 workers.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--nats" ]; then
    export FFC_NATS_SOAK_SECONDS="${2:-300}"
    export FFC_NATS_SOAK_COUNTERS="${3:-50}"
    export FFC_NATS_SOAK_RATE="${4:-5}"
    export FFC_NATS_SOAK_THROUGHPUT="${5:-20000}"
    # shellcheck disable=SC1091
    source scripts/services.sh
    exec cargo test -p ffc-cli --test nats_soak -- --nocapture nats_soak
fi
export FFC_SOAK_SECONDS="${1:-600}"
export FFC_SOAK_COUNTERS="${2:-200}"
export FFC_SOAK_WORKERS="${3:-3}"
export FFC_SOAK_RATE="${4:-10}"
if [ -n "${5:-}" ]; then export FFC_SOAK_SEED="$5"; fi
# shellcheck disable=SC1091
source scripts/services.sh
cargo test --release -p ffc-examples --test soak -- --nocapture
