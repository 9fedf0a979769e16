package dev.umbra.web;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.umbra.cli.CliHarness;
import dev.umbra.kit.testing.TestRedis;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The blindness canary's scan for the browser tests: where any of the canaries shows up as text,
 * lower-case hex or base64 of its UTF-8 — every bus message seen, every log line, every Redis key
 * of the test's prefix (its dumped value) and every row of every table of every schema (audit
 * records included when the audit service runs).
 */
final class CanaryScan {
  private CanaryScan() {}

  static List<String> forms(List<String> canaries) {
    List<String> forms = new ArrayList<>();
    for (String c : canaries) {
      byte[] raw = c.getBytes(StandardCharsets.UTF_8);
      forms.addAll(
          List.of(c, HexFormat.of().formatHex(raw), Base64.getEncoder().encodeToString(raw)));
    }
    return forms;
  }

  /** Every place a canary was found (empty: none); {@code rows} are the tables' rows as text. */
  static List<String> leaks(
      CliHarness h,
      List<String> busSeen,
      List<ILoggingEvent> logs,
      Map<String, List<String>> rows,
      List<String> canaries)
      throws Exception {
    List<String> forms = forms(canaries);
    List<String> found = new ArrayList<>();
    busSeen.forEach(m -> forms.stream().filter(m::contains).forEach(f -> found.add("bus: " + m)));
    for (ILoggingEvent e : List.copyOf(logs)) {
      String line = e.getFormattedMessage();
      forms.stream().filter(line::contains).forEach(f -> found.add("log: " + line));
    }
    Redis redis = Redis.createClient(h.vertx, TestRedis.url().toString());
    try {
      for (Response k :
          redis
              .send(Request.cmd(Command.KEYS).arg(h.prefix + "*"))
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS)) {
        Response dump =
            redis
                .send(Request.cmd(Command.DUMP).arg(k.toString()))
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        String value = dump == null ? "" : new String(dump.toBytes(), StandardCharsets.ISO_8859_1);
        forms.stream().filter(value::contains).forEach(f -> found.add("redis: " + k));
      }
    } finally {
      redis.close();
    }
    rows.forEach(
        (table, texts) ->
            texts.forEach(
                row -> forms.stream().filter(row::contains).forEach(f -> found.add(table))));
    return found;
  }
}
