package dev.umbra.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.umbra.kit.testing.BusTraffic;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestRedis;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * What the services of a {@link CliHarness} let out while an end-to-end test runs, where a canary
 * must never show (DESIGN.md §2, §6): every log line (message and key-value pairs), every bus
 * message, every Redis key of the harness's prefix and its value; and the PostgreSQL tables, where
 * some texts are stored by design. A canary is looked for as text, hex and base64 of its UTF-8.
 */
public final class Traces implements AutoCloseable {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private CliHarness h;
  private List<String> bus = List.of();

  private Traces() {}

  /** Starts keeping every log line (before the services start, so that theirs count too). */
  public static Traces keepLogs() {
    Traces t = new Traces();
    t.logs.start();
    root().addAppender(t.logs);
    return t;
  }

  /** And every message on {@code harness}'s bus from now on. */
  public Traces watch(CliHarness harness) throws Exception {
    this.h = harness;
    this.bus = BusTraffic.recordAll(harness.bus);
    return this;
  }

  /** The bus messages seen so far. */
  public List<String> busSeen() {
    return bus;
  }

  /** The log lines kept so far. */
  public List<ILoggingEvent> logLines() {
    return List.copyOf(logs.list);
  }

  /** A fresh canary: {@code prefix}, "-canary-" and 16 random bytes in hex. */
  public static String canary(String prefix) {
    byte[] random = new byte[16];
    new SecureRandom().nextBytes(random);
    return prefix + "-canary-" + HexFormat.of().formatHex(random);
  }

  /** Where any of {@code canaries} shows on the bus, in a log line or in Redis. */
  public List<String> outsideTables(String... canaries) throws Exception {
    List<String> forms = forms(canaries);
    List<String> found = new ArrayList<>();
    for (String m : bus) {
      forms.stream().filter(m::contains).forEach(f -> found.add("bus: " + m));
    }
    for (ILoggingEvent e : logLines()) {
      String line = e.getFormattedMessage() + " " + e.getKeyValuePairs();
      forms.stream().filter(line::contains).forEach(f -> found.add("log: " + line));
    }
    Redis redis = Redis.createClient(h.vertx, TestRedis.url().toString());
    try {
      for (Response k :
          Futures.await(redis.send(Request.cmd(Command.KEYS).arg(h.prefix + "*")), WAIT)) {
        Response dump =
            Futures.await(redis.send(Request.cmd(Command.DUMP).arg(k.toString())), WAIT);
        String value = dump == null ? "" : new String(dump.toBytes(), StandardCharsets.ISO_8859_1);
        forms.stream()
            .filter(f -> value.contains(f) || k.toString().contains(f))
            .forEach(f -> found.add("redis: " + k));
      }
    } finally {
      redis.close();
    }
    return found;
  }

  /** The tables whose rows hold any of {@code canaries}. */
  public List<String> tablesHolding(String... canaries) throws Exception {
    List<String> forms = forms(canaries);
    List<String> found = new ArrayList<>();
    for (Map.Entry<String, List<String>> t : h.pg.rowsAsText().entrySet()) {
      if (t.getValue().stream().anyMatch(row -> forms.stream().anyMatch(row::contains))) {
        found.add(t.getKey());
      }
    }
    return found;
  }

  /** Where any of {@code canaries} shows: bus, log, Redis and every table. */
  public List<String> anywhere(String... canaries) throws Exception {
    List<String> found = outsideTables(canaries);
    tablesHolding(canaries).forEach(t -> found.add("table: " + t));
    return found;
  }

  static List<String> forms(String... canaries) {
    List<String> forms = new ArrayList<>();
    for (String c : canaries) {
      byte[] raw = c.getBytes(StandardCharsets.UTF_8);
      forms.add(c);
      forms.add(HexFormat.of().formatHex(raw));
      forms.add(Base64.getEncoder().encodeToString(raw));
    }
    return forms;
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  @Override
  public void close() {
    root().detachAppender(logs);
  }
}
