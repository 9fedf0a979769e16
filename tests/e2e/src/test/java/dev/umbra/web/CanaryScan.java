package dev.umbra.web;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
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
 * The blindness canary's scan for the browser tests (DESIGN.md §6): where a canary shows up, as
 * text, hex or base64, in every table of the harness's database, every Redis key under its prefix,
 * every bus message recorded ({@code BusTraffic.recordAll}) and every log line collected.
 */
final class CanaryScan {
  private CanaryScan() {}

  /**
   * The places {@code canary} was found; the database must hold tables of every schema named in
   * {@code schemas} (so the services whose tables matter are known to be scanned).
   */
  static List<String> leaks(
      CliHarness h,
      List<String> busSeen,
      ListAppender<ILoggingEvent> logs,
      String canary,
      String... schemas)
      throws Exception {
    byte[] raw = canary.getBytes(StandardCharsets.UTF_8);
    List<String> forms =
        List.of(canary, HexFormat.of().formatHex(raw), Base64.getEncoder().encodeToString(raw));
    List<String> found = new ArrayList<>();
    busSeen.forEach(m -> forms.stream().filter(m::contains).forEach(f -> found.add("bus: " + m)));
    for (ILoggingEvent e : List.copyOf(logs.list)) {
      String line = e.getFormattedMessage();
      forms.stream().filter(line::contains).forEach(f -> found.add("log: " + line));
    }
    Redis redis = Redis.createClient(h.vertx, TestRedis.url().toString());
    try {
      for (Response k : send(redis, Request.cmd(Command.KEYS).arg(h.prefix + "*"))) {
        Response dump = send(redis, Request.cmd(Command.DUMP).arg(k.toString()));
        String value = dump == null ? "" : new String(dump.toBytes(), StandardCharsets.ISO_8859_1);
        forms.stream().filter(value::contains).forEach(f -> found.add("redis: " + k));
      }
    } finally {
      redis.close();
    }
    Map<String, List<String>> rows = h.pg.rowsAsText();
    for (String schema : schemas) {
      assertThat(rows.keySet()).anyMatch(table -> table.startsWith(schema));
    }
    rows.forEach(
        (table, texts) ->
            texts.forEach(
                row -> forms.stream().filter(row::contains).forEach(f -> found.add(table))));
    return found;
  }

  private static Response send(Redis redis, Request request) throws Exception {
    return redis.send(request).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
