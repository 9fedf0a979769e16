#!/usr/bin/env bash
# CLI start-up, paired against the bare JVM (docs/benchmarks.md, "CLI start-up").
#
#   bench/cli-startup.sh [rounds]          # default 7 rounds
#
# Starts `bin/umbra dev` with a temporary UMBRA_HOME, its own free ports and a fresh database on
# the PostgreSQL of UMBRA_BENCH_PG (default postgresql://postgres@127.0.0.1:5432), waits for
# `ready` (dev mode logs the CLI in and pairs this machine as `local`), then times, round after
# round, `java -version` of the same JDK followed by each command through bin/umbra:
#   umbra --version | umbra machines list | umbra run local -- true
# and prints per command the median wall time, the median of the bare JVM in the same rounds, and
# the ratio (median of the per-round ratios: both sides of a pair see the same load); then the same
# for CPU time (user + sys of the process and its children), which a machine shared with other
# work disturbs less than wall time. The dev
# platform is stopped and its database dropped at the end. UMBRA_BENCH_UMBRA=<path to a bin/umbra>
# times another checkout (its jars must be built: the harness never builds them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${1:-7}"
UMBRA="${UMBRA_BENCH_UMBRA:-$ROOT/bin/umbra}"
PG="${UMBRA_BENCH_PG:-postgresql://postgres@127.0.0.1:5432}"
# shellcheck source=../bin/lib/jdk.sh
source "$ROOT/bin/lib/jdk.sh"
JDK="$(umbra_find_jdk)"
export JAVA_HOME="$JDK"
JAVA="$JDK/bin/java"

WORK="$(mktemp -d -t umbra-cli-bench.XXXXXX)"
DB="umbra_bench_$$"
DEV_PID=""
cleanup() {
  if [[ -n "$DEV_PID" ]] && kill -0 "$DEV_PID" 2>/dev/null; then
    kill -TERM "$DEV_PID" 2>/dev/null || true # a background job ignores SIGINT
    for _ in $(seq 1 100); do kill -0 "$DEV_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DEV_PID" 2>/dev/null || true
  fi
  psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# CPU: user + sys of this shell's finished children in ms (bash's `times`, second line; run in this
# shell, not in a command substitution, whose subshell has no children)
cpu_now() { times >"$WORK/times"; CPU=$(awk 'NR == 2 {split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000}' "$WORK/times"); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

export UMBRA_HOME="$WORK/home"
export UMBRA_PG_URL="$PG/$DB"
export UMBRA_CONTROL_PLANE_PORT="$(free_port)" UMBRA_RELAY_PORT="$(free_port)" UMBRA_PAIRING_PORT="$(free_port)" \
       UMBRA_AUDIT_PORT="$(free_port)" UMBRA_WEBTTY_ENGINE_PORT="$(free_port)"
unset UMBRA_REDIS_URL

echo "umbra: $UMBRA"
echo "jdk:   $JDK ($("$JAVA" -version 2>&1 | head -1))"
echo "cpu:   $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') × $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"

"$UMBRA" --version >/dev/null # builds what is missing (and the start-up cache) before anything is timed
LOCK="$(dirname "$UMBRA")/../launcher/target/aot/.lock"
while [[ -d "$LOCK" ]]; do sleep 1; done # a start-up cache being made in the background
echo "starting umbra dev (database $DB)…"
"$UMBRA" dev >"$WORK/dev.log" 2>&1 &
DEV_PID=$!
deadline=$(( $(now_ms) + 300000 ))
until grep -q '^ready' "$WORK/dev.log" 2>/dev/null; do
  if ! kill -0 "$DEV_PID" 2>/dev/null || (( $(now_ms) > deadline )); then
    echo "umbra dev did not get ready; its log:" >&2
    tail -30 "$WORK/dev.log" >&2
    exit 1
  fi
  sleep 0.5
done
# the daemon connects to the relay just after `ready`: wait until a run goes through
deadline=$(( $(now_ms) + 60000 ))
until "$UMBRA" run local -- true >/dev/null 2>&1; do
  (( $(now_ms) > deadline )) && { echo "umbra run local -- true keeps failing" >&2; "$UMBRA" run local -- true; exit 1; }
  sleep 0.5
done

COMMANDS=("--version" "machines list" "run local -- true")
declare -A T
for (( r = 0; r < ROUNDS; r++ )); do
  for i in "${!COMMANDS[@]}"; do
    cpu_now; c0=$CPU; t0=$(now_ms); "$JAVA" -version >/dev/null 2>&1; t1=$(now_ms); cpu_now; c1=$CPU
    # shellcheck disable=SC2086
    "$UMBRA" ${COMMANDS[$i]} >/dev/null 2>"$WORK/err" || { echo "umbra ${COMMANDS[$i]} failed:" >&2; cat "$WORK/err" >&2; exit 1; }
    t2=$(now_ms); cpu_now; c2=$CPU
    T[$i,java]+="$((t1 - t0)) "
    T[$i,cmd]+="$((t2 - t1)) "
    T[$i,cjava]+="$((c1 - c0)) "
    T[$i,ccmd]+="$((c2 - c1)) "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
table() { # $1: wall|cpu
  local kc=cmd kj=java
  [[ "$1" == cpu ]] && { kc=ccmd; kj=cjava; }
  printf '\n%-26s %10s %12s %8s   (%s; %d rounds, median; ratio = median of per-round ratios)\n' "command" "umbra s" "java -version" "ratio" \
    "$([[ "$1" == cpu ]] && echo "CPU time, user + sys" || echo "wall time")" "$ROUNDS"
  for i in "${!COMMANDS[@]}"; do
    read -ra js <<<"${T[$i,$kj]}"
    read -ra cs <<<"${T[$i,$kc]}"
    ratios=""
    for k in "${!js[@]}"; do ratios+="$(awk -v c="${cs[$k]}" -v j="${js[$k]}" 'BEGIN {printf "%.3f", c / (j > 0 ? j : 1)}') "; done
    printf '%-26s %10.3f %12.3f %7.1f×\n' "umbra ${COMMANDS[$i]}" \
      "$(echo "${T[$i,$kc]}" | median | awk '{print $1/1000}')" "$(echo "${T[$i,$kj]}" | median | awk '{print $1/1000}')" \
      "$(echo "$ratios" | median)"
  done
}
table wall
table cpu
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
