package dev.umbra.controlplane;

import dev.umbra.crypto.aead.AeadKey;
import dev.umbra.crypto.aead.XChaCha20Poly1305;
import dev.umbra.kit.testing.BusTraffic;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The blindness canary of the messaging tests: a random canary (as text, hex and base64), what a
 * client would send of it (the canary sealed with XChaCha20-Poly1305), and where it must never
 * show: bus messages and log lines while it is open, every table's rows after. The ciphertext may
 * cross the bus, inside MAC'd notices only ({@link #busMessagesHolding}).
 */
final class MessageCanary implements AutoCloseable {
  final String text;
  private final List<String> forms;
  private final List<String> busSeen;
  private final ch.qos.logback.classic.Logger root =
      (ch.qos.logback.classic.Logger)
          org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>
      logs = new ch.qos.logback.core.read.ListAppender<>();

  private MessageCanary(Harness h) throws Exception {
    byte[] raw = new byte[16];
    new SecureRandom().nextBytes(raw);
    text = "canary-" + HexFormat.of().formatHex(raw);
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    forms = List.of(text, HexFormat.of().formatHex(utf8), Base64.getEncoder().encodeToString(utf8));
    busSeen = BusTraffic.recordAll(h.bus);
    logs.start();
    root.addAppender(logs);
  }

  /** Starts watching {@code h}'s bus and the logs. */
  static MessageCanary watch(Harness h) throws Exception {
    return new MessageCanary(h);
  }

  /** What an owner's client sends: the canary encrypted under a fresh key. */
  byte[] sealed() {
    return XChaCha20Poly1305.sealWithRandomNonce(
        AeadKey.generate(), new byte[0], text.getBytes(StandardCharsets.UTF_8));
  }

  /** Whether audit events (and notices) crossed the bus at all while watching. */
  boolean sawBusTraffic() {
    return !busSeen.isEmpty();
  }

  /** The bus messages seen while watching whose body holds {@code bytes}: channel to body. */
  List<Map.Entry<String, byte[]>> busMessagesHolding(byte[] bytes) {
    String needle = new String(bytes, StandardCharsets.ISO_8859_1);
    List<Map.Entry<String, byte[]>> out = new ArrayList<>();
    for (String line : busSeen) {
      int space = line.indexOf(' ');
      String body = line.substring(space + 1);
      if (body.contains(needle)) {
        out.add(Map.entry(line.substring(0, space), body.getBytes(StandardCharsets.ISO_8859_1)));
      }
    }
    return out;
  }

  @Override
  public void close() {
    root.detachAppender(logs);
  }

  /** Where the canary showed: "bus", "log", or a table's name (after {@link #close}). */
  List<String> leaks(Harness h) throws Exception {
    List<String> leaks = new ArrayList<>();
    for (String line : busSeen) {
      forms.stream().filter(line::contains).forEach(f -> leaks.add("bus: " + line));
    }
    logs.list.forEach(
        e ->
            forms.stream()
                .filter(e.getFormattedMessage()::contains)
                .forEach(f -> leaks.add("log")));
    Map<String, List<String>> rows = h.pg.rowsAsText();
    if (rows.keySet().stream().noneMatch(t -> t.endsWith(".messages"))) {
      leaks.add("the messages table was not scanned");
    }
    rows.forEach(
        (t, texts) ->
            texts.forEach(row -> forms.stream().filter(row::contains).forEach(f -> leaks.add(t))));
    return leaks;
  }
}
