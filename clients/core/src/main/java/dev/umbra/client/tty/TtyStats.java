package dev.umbra.client.tty;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters of one WebTTY endpoint (daemon server or client): refusals and drops by reason, never
 * content.
 */
public final class TtyStats {
  private final ConcurrentHashMap<String, AtomicLong> counts = new ConcurrentHashMap<>();

  public void count(String what) {
    counts.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
  }

  public void add(String what, long n) {
    counts.computeIfAbsent(what, k -> new AtomicLong()).addAndGet(n);
  }

  /** Sets a gauge (e.g. the keyset version of the last re-check). */
  public void set(String what, long value) {
    counts.computeIfAbsent(what, k -> new AtomicLong()).set(value);
  }

  public long get(String what) {
    AtomicLong a = counts.get(what);
    return a == null ? 0 : a.get();
  }

  public Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }
}
