#!/usr/bin/env bash
# Runs every service as its own process, N instances each (default 2), against the PostgreSQL
# and Redis on this machine — the production shape on one host. Ctrl-C stops them all (SIGTERM,
# each drains and exits 0).
#   deploy/local-cluster.sh [instances]      env: UMBRA_PG_URL, UMBRA_REDIS_URL, BASE_PORT (9000)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-2}"
BASE="${BASE_PORT:-9000}"
export UMBRA_PG_URL="${UMBRA_PG_URL:-postgresql://postgres@127.0.0.1:5432/umbra}"
export UMBRA_REDIS_URL="${UMBRA_REDIS_URL:-redis://127.0.0.1:6379}"
export UMBRA_HOME="${UMBRA_HOME:-$HOME/.umbra}"
LOGS="$(mktemp -d -t umbra-cluster.XXXXXX)"

[[ -f "$ROOT/launcher/target/umbra-launcher-0.1.0-SNAPSHOT.jar" ]] || "$ROOT/bin/umbra" --help >/dev/null 2>&1 || true  # builds the launcher when missing
JAVA="${JAVA_HOME:-/nonexistent}/bin/java"; [[ -x "$JAVA" ]] || JAVA="$(ls -d /usr/lib/jvm/*/bin/java | sort -rV | head -1)"
CP="$ROOT/launcher/target/umbra-launcher-0.1.0-SNAPSHOT.jar:$ROOT/launcher/target/lib/*"

declare -A MAIN=([control-plane]=dev.umbra.controlplane.Main [relay]=dev.umbra.relay.Main
  [pairing]=dev.umbra.pairing.Main [audit]=dev.umbra.audit.Main [webtty-engine]=dev.umbra.webtty.Main)
declare -A VAR=([control-plane]=CONTROL_PLANE [relay]=RELAY [pairing]=PAIRING [audit]=AUDIT [webtty-engine]=WEBTTY_ENGINE)
ORDER=(control-plane pairing relay audit webtty-engine)

# public URLs point at instance 0 of each service (put a load balancer in front for more)
i=0
for s in "${ORDER[@]}"; do export "UMBRA_${VAR[$s]}_URL=http://127.0.0.1:$((BASE + i * 10))"; i=$((i + 1)); done

PIDS=()
trap 'echo "stopping…"; kill -TERM "${PIDS[@]}" 2>/dev/null; wait; echo "stopped; logs in $LOGS"' INT TERM
i=0
for s in "${ORDER[@]}"; do
  for n in $(seq 0 $((N - 1))); do
    port=$((BASE + i * 10 + n))
    env "UMBRA_${VAR[$s]}_PORT=$port" "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" "${MAIN[$s]}" >"$LOGS/$s-$n.log" 2>&1 &
    PIDS+=($!)
    echo "  $s #$n  http://127.0.0.1:$port   (log $LOGS/$s-$n.log)"
  done
  i=$((i + 1))
done
for _ in $(seq 1 60); do
  all=1; i=0
  for s in "${ORDER[@]}"; do for n in $(seq 0 $((N - 1))); do
    curl -fs "http://127.0.0.1:$((BASE + i * 10 + n))/healthz" >/dev/null || all=0
  done; i=$((i + 1)); done
  [[ $all == 1 ]] && break
  sleep 1
done
[[ $all == 1 ]] && echo "ready: $((N * 5)) processes healthy" || echo "not all instances became healthy; see $LOGS" >&2
wait
