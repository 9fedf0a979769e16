#!/bin/bash
# Where a relayed round trip's time goes, hop by hop (docs/benchmarks.md, "Issue 20: where the
# mesh's time goes"). Two modes:
#
#   attach WHAT PID DIR   used by RelayBench's -Dumbra.bench.attach: records, for the "relay one"
#                         and "relay two (mesh)" points, every network syscall and scheduler switch
#                         and wake-up of the whole machine (perf tracepoints, one recording a point)
#   report DIR            reads the recordings: per relay event-loop thread, the time from reading
#                         a frame to writing it on (by socket pair: on CPU, or how often it was
#                         switched out meanwhile), and per wake-up of a relay or bench thread the
#                         time from being woken to running, and how often it ran on another CPU
#                         than its waker's (a wake-up of an idle vCPU costs the most on a VM)
#
# Run (a low rate, so a round trip is alone on the machine; root, for perf):
#   java -Dumbra.bench.parts=latency -Dumbra.bench.rates=1000 -Dumbra.bench.rounds=1 \
#        "-Dumbra.bench.attach=bench/relay-hops.sh attach {what} {pid} /tmp/hops" … RelayBench
#   bench/relay-hops.sh report /tmp/hops
set -euo pipefail

mode=${1:?attach or report}
if [ "$mode" = attach ]; then
  what=$2 pid=$3 dir=$4
  point=${what%-*-*}
  case "$point" in
    relay-one | relay-two-mesh-) ;;
    *) exec sleep 100000 ;;
  esac
  mkdir -p "$dir"
  echo "$pid" >>"$dir/$point.pids"
  # the points' processes are attached at once: the first takes the recording, the others wait
  mkdir "$dir/$point.lock" 2>/dev/null || exec sleep 100000
  # --exclude-perf: perf's own writes of the recording are not recorded (they were, one write
  # event per few recorded events, keeping a vCPU busy with perf during the point)
  exec perf record -a -q -o "$dir/$point.data" \
    -e syscalls:sys_exit_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_writev,syscalls:sys_enter_write --exclude-perf \
    -e sched:sched_wakeup,sched:sched_switch --exclude-perf
fi

dir=${2:?directory}
for data in "$dir"/*.data; do
  point=$(basename "$data" .data)
  pids=$(sort -u "$dir/$point.pids" | tr '\n' ' ')
  echo "== $point (relay pids: $pids)"
  perf script -i "$data" -F comm,pid,tid,cpu,time,event,trace 2>/dev/null |
    awk -v pids="$pids" '
      BEGIN { n = split(pids, p, " "); for (i = 1; i <= n; i++) relay[p[i]] = 1 }
      {
        match($0, / [0-9]+\/[0-9]+ /); split(substr($0, RSTART + 1, RLENGTH - 2), pt, "/")
        pid = pt[1]; tid = pt[2]
        match($0, /\[[0-9]+\]/); cpu = substr($0, RSTART + 1, RLENGTH - 2) + 0
        match($0, / [0-9]+\.[0-9]+: /); t = substr($0, RSTART + 1, RLENGTH - 3) + 0
        loop = relay[pid] && $0 ~ /^ *vert\.x-eventloo /
      }
      /sys_exit_recvfrom: / && loop {
        if ($NF != "0x0" && $NF !~ /^0xfffff/) { readAt[tid] = t; switched[tid] = 0; relayLoop[tid] = 1 }
        next
      }
      /sys_enter_(sendto|writev|write): / && loop && readAt[tid] > 0 {
        match($0, /fd: 0x[0-9a-f]+/); fd = substr($0, RSTART + 4, RLENGTH - 4)
        key = pid " read -> write on fd " fd (switched[tid] ? ", switched out between" : ", on CPU")
        gap[key] += (t - readAt[tid]) * 1e6; gaps[key]++
        readAt[tid] = 0
        next
      }
      /sched:sched_wakeup: / {
        match($0, / pid=[0-9]+/); woken = substr($0, RSTART + 5, RLENGTH - 5)
        match($0, /target_cpu=[0-9]+/); target = substr($0, RSTART + 11, RLENGTH - 11) + 0
        if (relayLoop[woken]) { wokeAt[woken] = t; cross[woken] = (target != cpu) }
        next
      }
      /sched:sched_switch: / {
        match($0, /prev_pid=[0-9]+/); prev = substr($0, RSTART + 9, RLENGTH - 9)
        match($0, /next_pid=[0-9]+/); nxt = substr($0, RSTART + 9, RLENGTH - 9)
        if (readAt[prev] > 0) switched[prev] = 1
        if (wokeAt[nxt] > 0) {
          k = cross[nxt] ? "another CPU" : "the waker CPU"
          wake[k] += (t - wokeAt[nxt]) * 1e6; wakes[k]++
          wokeAt[nxt] = 0
        }
        next
      }
      END {
        for (k in gaps) if (gaps[k] >= 20) printf "  %-58s n=%6d mean %7.1f us\n", k, gaps[k], gap[k] / gaps[k]
        for (k in wakes) printf "  relay event loop woken -> running, on %-14s n=%6d mean %7.1f us\n", k, wakes[k], wake[k] / wakes[k]
      }' | sort
done
