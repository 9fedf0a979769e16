package dev.umbra.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.secret.BusNoticeMacs;
import dev.umbra.kit.log.LogRing;
import dev.umbra.kit.testing.BusTraffic;
import dev.umbra.kit.testing.CanaryScan;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What the services of a {@link CliHarness} let out while an end-to-end test runs, where a canary
 * must never show (DESIGN.md §2, §6): every log line (message, key-value pairs, MDC, exception; and
 * the kit's log ring), every bus message, every Redis key of the harness's prefix and its value;
 * and the PostgreSQL tables, where some texts are stored by design. The scanners are the kit's
 * {@link CanaryScan} (the launcher's blindness canary uses the same): a canary is looked for as
 * text, hex and base64 of its UTF-8, in any case.
 */
public final class Traces implements AutoCloseable {
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

  /**
   * The message notices seen so far (bus messages on {@code umbra.msg.r.<workspace>.<recipient>},
   * which may carry a copy's ciphertext), each with whether its MAC holds for its channel under the
   * harness's internal credential (docs/messaging.md, "Notices on the bus").
   */
  public List<java.util.Map.Entry<String, Boolean>> messageNotices() {
    String domain = CryptoConstants.MESSAGE_NOTICE_DOMAIN;
    byte[] key = BusNoticeMacs.key(h.internalToken, domain);
    String marker = "umbra.msg.r.";
    List<java.util.Map.Entry<String, Boolean>> out = new ArrayList<>();
    for (String line : bus) {
      int space = line.indexOf(' ');
      String channel = line.substring(0, space);
      int at = channel.indexOf(marker);
      if (at < 0) {
        continue;
      }
      // a sealed notice (SealedNotices): 0x01 || u64be(millis) || mac || notice
      byte[] body = line.substring(space + 1).getBytes(StandardCharsets.ISO_8859_1);
      int header = 1 + Long.BYTES + 32;
      boolean macd =
          body.length > header
              && body[0] == 1
              && BusNoticeMacs.verify(
                  key,
                  domain,
                  channel.substring(at),
                  java.nio.ByteBuffer.wrap(body, 1, Long.BYTES).getLong(),
                  Arrays.copyOfRange(body, header, body.length),
                  Arrays.copyOfRange(body, 1 + Long.BYTES, header));
      out.add(java.util.Map.entry(channel, macd));
    }
    return out;
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

  /**
   * Each kept log line as text: its message, key-value pairs, MDC and exception (with its causes'
   * messages and stack); then the lines of the kit's log ring, as its encoder wrote them.
   */
  public List<String> logText() {
    List<String> out = new ArrayList<>();
    for (ILoggingEvent e : logLines()) {
      String thrown =
          e.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(e.getThrowableProxy());
      out.add(
          e.getFormattedMessage()
              + " "
              + e.getKeyValuePairs()
              + " "
              + e.getMDCPropertyMap()
              + " "
              + thrown);
    }
    out.addAll(LogRing.installed().recent(Integer.MAX_VALUE));
    return out;
  }

  /**
   * Where any of {@code canaries} shows on the bus, in a log line or in Redis (every key of the
   * harness's prefix, its name and its whole value: streams such as audit ingest included).
   */
  public List<String> outsideTables(String... canaries) throws Exception {
    List<String> forms = CanaryScan.forms(canaries);
    List<String> found = new ArrayList<>(CanaryScan.lines("bus", bus, forms));
    found.addAll(CanaryScan.lines("log", logText(), forms));
    found.addAll(redis(canaries).found());
    return found;
  }

  /** The scan of every Redis key of the harness's prefix for {@code canaries}. */
  public CanaryScan.Result redis(String... canaries) throws Exception {
    return CanaryScan.redis(h.vertx, h.prefix, CanaryScan.forms(canaries));
  }

  /**
   * The scan of every table of every schema for {@code canaries}: the tables scanned, the rows, and
   * the tables ({@code schema.table}) whose rows hold one.
   */
  public CanaryScan.Result tables(String... canaries) throws Exception {
    return CanaryScan.postgresTables(h.pg, CanaryScan.forms(canaries));
  }

  /** The tables whose rows hold any of {@code canaries}. */
  public List<String> tablesHolding(String... canaries) throws Exception {
    return tables(canaries).found();
  }

  /** Where any of {@code canaries} shows: bus, log, Redis and every table. */
  public List<String> anywhere(String... canaries) throws Exception {
    List<String> found = outsideTables(canaries);
    tablesHolding(canaries).forEach(t -> found.add("table: " + t));
    return found;
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  @Override
  public void close() {
    root().detachAppender(logs);
  }
}
