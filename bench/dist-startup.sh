#!/usr/bin/env bash
# The distribution's size and start time (docs/benchmarks.md, "Distribution"): unpacks the tarball
# `./mvnw -pl dist -am package` built, then runs, interleaved, N times each:
#   umbra --version         from the tarball (its bin/umbra, its jlink runtime)
#   umbra --version         the same without its build-time start-up cache (-XX:AOTMode=off)
#   java -version           of the tarball's runtime, and of the JDK in JAVA_HOME (a full JDK)
# and prints the median wall and CPU time of each and umbra's ratio to `java -version` (the median
# of the per-round ratios, so both sides saw the same load).
#   bench/dist-startup.sh [tarball] [N]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARBALL="${1:-$(ls "$ROOT"/dist/target/umbra-*-linux-*.tar.gz | head -1)}"
N="${2:-30}"
JDK="${JAVA_HOME:?set JAVA_HOME to a JDK for the comparison}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
tar -C "$TMP" -xzf "$TARBALL"
DIST="$(ls -d "$TMP"/umbra-*)"
export HOME="$TMP/home"; mkdir -p "$HOME"

TIMEFORMAT='%R %U %S'
run1() { # "wall cpu" seconds of "$@" (cpu: user + sys of the process and its children)
  local t
  t="$( { time "$@" >/dev/null 2>&1; } 2>&1 )"
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' <<<"$t"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for _ in 1 2 3; do # page cache warm for all three
  run1 "$DIST/bin/umbra" --version >/dev/null; run1 "$DIST/runtime/bin/java" -version >/dev/null
  run1 "$JDK/bin/java" -version >/dev/null
  UMBRA_JAVA_OPTS=-XX:AOTMode=off run1 "$DIST/bin/umbra" --version >/dev/null
done
: >"$TMP/rounds"
for _ in $(seq "$N"); do
  echo "$(run1 "$DIST/bin/umbra" --version) $(run1 "$DIST/runtime/bin/java" -version) $(run1 "$JDK/bin/java" -version) $(UMBRA_JAVA_OPTS=-XX:AOTMode=off run1 "$DIST/bin/umbra" --version)" >>"$TMP/rounds"
done
col() { awk -v c="$1" '{print $c}' "$TMP/rounds" | median; }
ratio() { awk -v a="$1" -v b="$2" '{print $a / $b}' "$TMP/rounds" | median; }
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; load:$(uptime | sed 's/.*load average://')"
echo "tarball: $(basename "$TARBALL") $(du -m "$TARBALL" | cut -f1) MB; unpacked $(du -sm "$DIST" | cut -f1) MB (runtime $(du -sm "$DIST/runtime" | cut -f1) MB, jars $(du -sm "$DIST/lib" | cut -f1) MB)"
echo "version: $("$DIST/bin/umbra" --version)"
echo "rounds: $N (each round: the four commands one after the other); medians; ratio = median of per-round ratios"
printf '%-34s %8s %8s %10s %10s %10s\n' command "wall s" "cpu s" "wall ×rt" "wall ×JDK" "cpu ×JDK"
printf '%-34s %8s %8s %10.2f %10.2f %10.2f\n' "umbra --version (tarball)" "$(col 1)" "$(col 2)" "$(ratio 1 3)" "$(ratio 1 5)" "$(ratio 2 6)"
printf '%-34s %8s %8s\n' "java -version (tarball runtime)" "$(col 3)" "$(col 4)"
printf '%-34s %8s %8s\n' "java -version (JDK)" "$(col 5)" "$(col 6)"
printf '%-34s %8s %8s %10.2f %10.2f %10.2f\n' "umbra --version (no cache)" "$(col 7)" "$(col 8)" "$(ratio 7 3)" "$(ratio 7 5)" "$(ratio 8 6)"
echo "JDK: $JDK"
