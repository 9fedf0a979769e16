#!/bin/bash
# Which threads of which process run, in which order, for one owner -> agent message, and how many
# of their wake-ups cross CPUs (docs/benchmarks.md, "Issue 17: thread wake-ups per message"). The
# relay's sibling is relay-hops.sh. Two modes:
#
#   attach WHAT DIR PIDS  used by MessagingBench's -Dumbra.bench.attach for its first latency
#                         round (PIDS: "name=pid ..."): names every Java thread (jcmd Thread.print,
#                         the kernel keeps 15 characters of a name), then records the whole
#                         machine's writes and scheduler switches and wake-ups (perf tracepoints)
#   report DIR [N]        prints, per message (N: the round's probes), how often each thread of the
#                         processes (and of the PostgreSQL backends serving them) was switched in,
#                         woken, and woken on another CPU than its waker's (a wake-up of an idle
#                         vCPU costs the most on a VM), and its write syscalls; and, cutting the recording into windows
#                         that start at a write of the owner's POST at least 5 ms after its last,
#                         the most common orders in which the threads ran (only meaningful when
#                         the machine is quiet and messages do not overlap)
#
# Run (a low rate, so a message is alone on the machine; root, for perf):
#   java -Dumbra.bench.rate=50 -Dumbra.bench.latencyCount=300 -Dumbra.bench.rounds=1 \
#        -Dumbra.bench.warmup=2000 -Dumbra.bench.messages=2000 \
#        "-Dumbra.bench.attach=bench/msg-hops.sh attach {what} /tmp/msghops {pids}" … MessagingBench
#   bench/msg-hops.sh report /tmp/msghops 300   # the round's probes
set -euo pipefail

mode=${1:?attach or report}
if [ "$mode" = attach ]; then
  what=$2 dir=$3
  shift 3
  trap 'exit 130' INT TERM # stopped before recording: never start the recorder late
  rm -rf "$dir" && mkdir -p "$dir"
  : >"$dir/threads"
  for np in "$@"; do
    name=${np%=*} pid=${np#*=}
    echo "$pid $name" >>"$dir/pids"
    # "vert.x-eventloop-thread-3" #41 [12345] ... nid=12345 ...
    jcmd "$pid" Thread.print 2>/dev/null |
      sed -n 's/^"\([^"]*\)".* nid=\([0-9a-fx]*\).*/\2 \1/p' |
      while read -r nid tname; do echo "$((nid)) $name:${tname// /_}"; done >>"$dir/threads"
  done
  # the PostgreSQL backends serving these processes (by the client port of their connections);
  # other backends and the shared Redis serve other sessions too, so they are left out
  ports=$(for np in "$@"; do ss -tnpH "( dport = :5432 )" | grep "pid=${np#*=}," || true; done |
    awk '{ n = split($4, a, ":"); print a[n] }' | sort -u | paste -sd, -)
  if [ -n "$ports" ]; then
    psql -h 127.0.0.1 -U postgres -At -F ' ' \
      -c "SELECT pid, 'postgres:backend' FROM pg_stat_activity WHERE client_port IN ($ports)" \
      >>"$dir/threads" || true
  fi
  echo recording # MessagingBench starts the round on this line
  # --exclude-perf: perf's own writes of the recording are not recorded (they were, one write
  # event per few recorded events, keeping a vCPU busy with perf during the round)
  exec perf record -a -q -o "$dir/$what.data" \
    -e syscalls:sys_enter_sendto,syscalls:sys_enter_writev,syscalls:sys_enter_write --exclude-perf \
    -e sched:sched_wakeup,sched:sched_switch --exclude-perf
fi

dir=${2:?directory}
count=${3:-0} # messages in the recording (the round's probes); else one a window
for data in "$dir"/*.data; do
  echo "== $(basename "$data" .data)"
  perf script -i "$data" -F comm,pid,tid,cpu,time,event,trace 2>/dev/null >"$dir/script.txt"
  awk -v pidsf="$dir/pids" -v threadsf="$dir/threads" -v count="$count" '
    BEGIN {
      while ((getline l < pidsf) > 0) { split(l, a, " "); proc[a[1]] = a[2]; if (a[2] == "owner") owner = a[1] }
      while ((getline l < threadsf) > 0) { split(l, a, " "); tname[a[1]] = a[2] }
    }
    # pass 1: which process each thread belongs to (from the events it ran)
    FNR == NR {
      match($0, / [0-9]+\/[0-9]+ /); split(substr($0, RSTART + 1, RLENGTH - 2), pt, "/")
      pidOf[pt[2]] = pt[1]
      next
    }
    # a thread of a process under test, or a backend serving one; "" for anything else. JIT
    # compiler and GC threads are lumped together per process.
    function label(tid,   p, n) {
      if (tname[tid] == "postgres:backend") return "postgres:backend"
      p = pidOf[tid]
      if (!(p in proc)) return ""
      n = tname[tid]
      if (n == "") return proc[p] ":(unnamed)"
      if (n ~ /:(C[12]_Compiler|G1_|GC_|VM_|Monitor_Deflation|Service_Thread)/) { sub(/:.*/, ":jit/gc/vm", n) }
      return n
    }
    {
      match($0, / [0-9]+\/[0-9]+ /); split(substr($0, RSTART + 1, RLENGTH - 2), pt, "/")
      pid = pt[1]
      match($0, /\[[0-9]+\]/); cpu = substr($0, RSTART + 1, RLENGTH - 2) + 0
      match($0, / [0-9]+\.[0-9]+: /); t = substr($0, RSTART + 1, RLENGTH - 3) + 0
    }
    /sys_enter_(sendto|writev|write): / {
      if (pid == owner) {
        if (t - lastOwnerWrite > 0.005) { close_msg(); open = 1; windows++; chain = ""; prev = "" }
        lastOwnerWrite = t
      }
      if (open && (l = label(pt[2])) != "") writes[l]++
      next
    }
    /sched:sched_wakeup: / && open {
      match($0, / pid=[0-9]+/); w = substr($0, RSTART + 5, RLENGTH - 5)
      match($0, /target_cpu=[0-9]+/); target = substr($0, RSTART + 11, RLENGTH - 11) + 0
      l = label(w); if (l == "") next
      wakes[l]++; if (target != cpu) crosses[l]++
      next
    }
    /sched:sched_switch: / && open {
      match($0, /next_pid=[0-9]+/); n = substr($0, RSTART + 9, RLENGTH - 9)
      l = label(n); if (l == "") next
      runs[l]++
      if (l != prev && l !~ /jit\/gc\/vm/) { chain = chain (chain == "" ? "" : " > ") l; prev = l }
      next
    }
    function close_msg() { if (open && chain != "") { chains[chain]++ } }
    END {
      close_msg()
      msgs = count > 0 ? count : windows
      printf "  %d messages, %d windows (a window starts at an owner write 5 ms after its last)\n", msgs, windows
      printf "  %-44s %9s %7s %14s %7s\n", "per message: thread", "switched", "woken", "woken cross-CPU", "writes"
      for (l in runs) if (runs[l] / msgs >= 0.05) printf "  %-44s %9.2f %7.2f %14.2f %7.2f\n", l, runs[l] / msgs, wakes[l] / msgs, crosses[l] / msgs, writes[l] / msgs | "sort"
      close("sort")
      for (l in runs) { tr += runs[l]; tw += wakes[l]; tc += crosses[l]; tx += writes[l] }
      printf "  %-44s %9.2f %7.2f %14.2f %7.2f\n", "all of them", tr / msgs, tw / msgs, tc / msgs, tx / msgs
      print "  most common windows (count: threads in the order they ran, a repeat of the same thread once):"
      for (c in chains) print chains[c] "\t" substr(c, 1, 900) | "sort -rn | head -3 | sed \"s/^/    /\""
    }' "$dir/script.txt" "$dir/script.txt"
  rm -f "$dir/script.txt"
done
