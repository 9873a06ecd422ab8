#!/usr/bin/env bash
# Events/s into one PostgreSQL with 1, 2 and 4 worker processes, in one run (issue 11):
# MQTT (mqtt_workers processes on one shared subscription of a private mosquitto, draining a QoS 1
# backlog) and WebSocket (ws_to_postgres processes behind a TCP load balancer, counters pushing as
# fast as `OK` comes back). The 1-worker figure of the same run is the baseline.
#   benches/scale_out.sh [EVENTS] [WS_COUNTERS]     (defaults 20000, 100)
# The measurement lives in examples/tests/scale_out_measure.rs (an ignored test, so it can
# start the reference integrations it measures); it prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
export FFC_SCALE_EVENTS="${1:-20000}"
export FFC_SCALE_COUNTERS="${2:-100}"
# shellcheck disable=SC1091
source scripts/services.sh
cargo test --release -p ffc-examples --test scale_out_measure -- --ignored --nocapture
