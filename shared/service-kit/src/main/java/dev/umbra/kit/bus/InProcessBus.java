package dev.umbra.kit.bus;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;

/**
 * The bus inside one JVM, for {@code bin/umbra dev} only: the same contract as {@link RedisBus},
 * nothing shared between processes and nothing survives a restart. All state is guarded by this
 * object's monitor; handlers run on the context that subscribed.
 */
public final class InProcessBus implements Bus {

  private final Vertx vertx;
  private final Clock clock;
  private final List<Sub> subs = new CopyOnWriteArrayList<>();
  private final Map<String, Stream> streams = new HashMap<>();
  private boolean closed;

  public InProcessBus(Vertx vertx) {
    this(vertx, Clock.systemUTC());
  }

  public InProcessBus(Vertx vertx, Clock clock) {
    this.vertx = vertx;
    this.clock = clock;
  }

  private record Sub(Pattern match, Context context, Handler<BusMessage> handler) {}

  private static final class Entry {
    final String id;
    final Buffer body;

    Entry(String id, Buffer body) {
      this.id = id;
      this.body = body;
    }
  }

  private static final class Pending {
    final Entry entry;
    String consumer;
    long deliveredAtMs;
    long deliveries;

    Pending(Entry entry, String consumer, long deliveredAtMs) {
      this.entry = entry;
      this.consumer = consumer;
      this.deliveredAtMs = deliveredAtMs;
      this.deliveries = 1;
    }
  }

  private static final class Group {
    long nextIndex; // absolute index of the next entry never delivered to this group
    final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
  }

  private static final class Stream {
    final List<Entry> entries = new ArrayList<>();
    long base; // absolute index of entries.get(0)
    long lastMs;
    long seq;
    final Map<String, Group> groups = new HashMap<>();
    final List<Runnable> waiters = new ArrayList<>();
  }

  @Override
  public Future<Long> publish(String channel, Buffer message) {
    try {
      Bus.checkName(channel);
      if (isClosed()) {
        return Future.failedFuture(new BusException("in-process bus is closed"));
      }
      long n = 0;
      for (Sub s : subs) {
        if (s.match.matcher(channel).matches()) {
          n++;
          Buffer copy = message.copy();
          s.context.runOnContext(v -> s.handler.handle(new BusMessage(channel, copy)));
        }
      }
      return Future.succeededFuture(n);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<Subscription> subscribe(String channel, Handler<BusMessage> handler) {
    try {
      Bus.checkName(channel);
      return add(Pattern.compile(Pattern.quote(channel)), handler);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<Subscription> subscribePattern(String pattern, Handler<BusMessage> handler) {
    try {
      Bus.checkName(pattern);
      return add(globToRegex(pattern), handler);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<Subscription> add(Pattern match, Handler<BusMessage> handler) {
    Context ctx = vertx.getOrCreateContext();
    Sub sub = new Sub(match, ctx, handler);
    subs.add(sub);
    return Future.succeededFuture(
        () -> {
          subs.remove(sub);
          return Future.succeededFuture();
        });
  }

  static Pattern globToRegex(String glob) {
    StringBuilder sb = new StringBuilder();
    for (char c : glob.toCharArray()) {
      switch (c) {
        case '*' -> sb.append(".*");
        case '?' -> sb.append('.');
        default -> sb.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(sb.toString());
  }

  @Override
  public Future<String> append(String stream, Buffer body, long maxLength) {
    try {
      Bus.checkName(stream);
      List<Runnable> wake;
      String id;
      synchronized (this) {
        if (closed) {
          return Future.failedFuture(new BusException("in-process bus is closed"));
        }
        Stream s = streams.computeIfAbsent(stream, k -> new Stream());
        long now = clock.millis();
        if (now > s.lastMs) {
          s.lastMs = now;
          s.seq = 0;
        } else {
          s.seq++;
        }
        id = s.lastMs + "-" + s.seq;
        s.entries.add(new Entry(id, body.copy()));
        long excess = s.entries.size() - maxLength;
        if (maxLength > 0 && excess > Math.max(16, maxLength / 10)) {
          s.entries.subList(0, (int) excess).clear();
          s.base += excess;
        }
        wake = new ArrayList<>(s.waiters);
        s.waiters.clear();
      }
      wake.forEach(Runnable::run);
      return Future.succeededFuture(id);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public synchronized Future<List<StreamEntry>> range(String stream, String afterId, int count) {
    try {
      Bus.checkName(stream);
      long[] after = StreamIds.parse(afterId);
      List<StreamEntry> out = new ArrayList<>();
      Stream s = streams.get(stream);
      if (s != null) {
        for (Entry e : s.entries) {
          if (out.size() >= count) {
            break;
          }
          if (StreamIds.compare(StreamIds.parse(e.id), after) > 0) {
            out.add(new StreamEntry(e.id, e.body.copy(), 0));
          }
        }
      }
      return Future.succeededFuture(out);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public synchronized Future<Void> ensureGroup(String stream, String group) {
    try {
      Bus.checkName(stream);
      Stream s = streams.computeIfAbsent(stream, k -> new Stream());
      s.groups.computeIfAbsent(
          group,
          g -> {
            Group created = new Group();
            created.nextIndex = s.base + s.entries.size(); // like Redis '$': new entries only
            return created;
          });
      return Future.succeededFuture();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<List<StreamEntry>> readGroup(
      String stream, String group, String consumer, int count, Duration block) {
    try {
      Bus.checkName(stream);
      List<StreamEntry> now = takeNew(stream, group, consumer, count);
      if (!now.isEmpty() || block.isZero()) {
        return Future.succeededFuture(now);
      }
      Promise<List<StreamEntry>> promise = Promise.promise();
      Context ctx = vertx.getOrCreateContext();
      long[] timer = {-1};
      Runnable waiter =
          () ->
              ctx.runOnContext(
                  v -> {
                    if (timer[0] >= 0) {
                      vertx.cancelTimer(timer[0]);
                    }
                    try {
                      promise.tryComplete(takeNew(stream, group, consumer, count));
                    } catch (RuntimeException e) {
                      promise.tryFail(e);
                    }
                  });
      synchronized (this) {
        streams.get(stream).waiters.add(waiter);
      }
      timer[0] =
          vertx.setTimer(
              block.toMillis(),
              t -> {
                synchronized (this) {
                  Stream s = streams.get(stream);
                  if (s != null) {
                    s.waiters.remove(waiter);
                  }
                }
                promise.tryComplete(List.of());
              });
      return promise.future();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private synchronized List<StreamEntry> takeNew(
      String stream, String group, String consumer, int count) {
    if (closed) {
      throw new BusException("in-process bus is closed");
    }
    Stream s = streams.get(stream);
    Group g = s == null ? null : s.groups.get(group);
    if (g == null) {
      throw new BusException("NOGROUP no consumer group '" + group + "' for stream " + stream);
    }
    List<StreamEntry> out = new ArrayList<>();
    long now = clock.millis();
    g.nextIndex = Math.max(g.nextIndex, s.base);
    while (out.size() < count && g.nextIndex < s.base + s.entries.size()) {
      Entry e = s.entries.get((int) (g.nextIndex - s.base));
      g.nextIndex++;
      g.pending.put(e.id, new Pending(e, consumer, now));
      out.add(new StreamEntry(e.id, e.body.copy(), 1));
    }
    return out;
  }

  @Override
  public synchronized Future<Long> ack(String stream, String group, List<String> ids) {
    Stream s = streams.get(stream);
    Group g = s == null ? null : s.groups.get(group);
    if (g == null) {
      return Future.succeededFuture(0L);
    }
    long n = 0;
    for (String id : ids) {
      if (g.pending.remove(id) != null) {
        n++;
      }
    }
    return Future.succeededFuture(n);
  }

  @Override
  public synchronized Future<List<StreamEntry>> claimPending(
      String stream, String group, String consumer, Duration minIdle, int count) {
    Stream s = streams.get(stream);
    Group g = s == null ? null : s.groups.get(group);
    if (g == null) {
      return Future.failedFuture(
          new BusException("NOGROUP no consumer group '" + group + "' for stream " + stream));
    }
    long now = clock.millis();
    List<StreamEntry> out = new ArrayList<>();
    for (Iterator<Pending> it = g.pending.values().iterator();
        it.hasNext() && out.size() < count; ) {
      Pending p = it.next();
      if (now - p.deliveredAtMs >= minIdle.toMillis()) {
        p.consumer = consumer;
        p.deliveredAtMs = now;
        p.deliveries++;
        out.add(new StreamEntry(p.entry.id, p.entry.body.copy(), p.deliveries));
      }
    }
    return Future.succeededFuture(out);
  }

  private record Expiring(String value, long expiresAtMs) {}

  private final Map<String, Expiring> keys = new HashMap<>();

  @Override
  public synchronized Future<Void> putExpiring(String key, String value, Duration ttl) {
    try {
      Bus.checkName(key);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    keys.put(key, new Expiring(value, clock.millis() + Math.max(1, ttl.toMillis())));
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<String> get(String key) {
    Expiring e = keys.get(key);
    if (e != null && e.expiresAtMs() <= clock.millis()) {
      keys.remove(key);
      e = null;
    }
    return Future.succeededFuture(e == null ? null : e.value());
  }

  @Override
  public synchronized Future<Boolean> deleteIfHolds(String key, String value) {
    Expiring e = keys.get(key);
    boolean holds = e != null && e.expiresAtMs() > clock.millis() && e.value().equals(value);
    if (holds) {
      keys.remove(key);
    }
    return Future.succeededFuture(holds);
  }

  @Override
  public Future<Void> ping() {
    return isClosed()
        ? Future.failedFuture(new BusException("in-process bus is closed"))
        : Future.succeededFuture();
  }

  private synchronized boolean isClosed() {
    return closed;
  }

  @Override
  public Future<Void> close() {
    synchronized (this) {
      closed = true;
      streams.clear();
      keys.clear();
    }
    subs.clear();
    return Future.succeededFuture();
  }

  @Override
  public String kind() {
    return "in-process";
  }
}
