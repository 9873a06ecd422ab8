#!/usr/bin/env bash
# Load run of the NATS path (issue 18; not a test): simulated WebSocket counters at a busy
# hour's rate through `ffc listen ws --nats` receivers, the 3-node cluster and `ffc work`
# workers into PostgreSQL, for a few minutes. Prints events/s, p50/p99 time to OK, the
# consumer's lag at the end, memory per connection and each process's CPU share.
#   scripts/load-nats.sh [COUNTERS] [SECONDS] [EVENTS_PER_MINUTE]
# Defaults: 10,000 counters, 180 s, 10 events per counter per minute (about 1,700/s).
set -euo pipefail
cd "$(dirname "$0")/.."
export FFC_NATS_LOAD_COUNTERS="${1:-10000}"
export FFC_NATS_LOAD_SECONDS="${2:-180}"
export FFC_NATS_LOAD_PER_MINUTE="${3:-10}"
# Two sockets per counter on this machine (the counter's and the receiver's end).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# shellcheck disable=SC1091
source scripts/services.sh
cargo test -p ffc-cli --test nats_soak -- --ignored --nocapture nats_load
