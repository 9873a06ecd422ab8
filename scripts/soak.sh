#!/usr/bin/env bash
# The long form of the fault soak (examples/tests/soak.rs, driving the reference
# integrations ws_to_postgres and mqtt_workers):
#   scripts/soak.sh [SECONDS] [COUNTERS] [WORKERS] [RATE] [SEED]
# SECONDS of pushing with kill -9 faults per path (default 600), COUNTERS simulated counters
# (default 200), WORKERS processes per path (default 3), RATE events per counter per second
# (default 10), SEED (default: random; printed either way). Runs WebSocket behind a load
# balancer, MQTT QoS 1 (exact), MQTT QoS 1 with broker crashes and MQTT QoS 0 (reported)
# against one private PostgreSQL and one private mosquitto; FFC_SOAK_PATHS picks some.
set -euo pipefail
cd "$(dirname "$0")/.."
export FFC_SOAK_SECONDS="${1:-600}"
export FFC_SOAK_COUNTERS="${2:-200}"
export FFC_SOAK_WORKERS="${3:-3}"
export FFC_SOAK_RATE="${4:-10}"
if [ -n "${5:-}" ]; then export FFC_SOAK_SEED="$5"; fi
# shellcheck disable=SC1091
source scripts/services.sh
cargo test --release -p ffc-examples --test soak -- --nocapture
