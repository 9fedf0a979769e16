package dev.umbra.controlplane.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.bus.BusNames;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What {@link Notices} puts on the bus is the sealed body of {@code
 * shared/crypto/conformance/bus-notice.json}'s message-notice vector (docs/messaging.md, "Notices
 * on the bus"): another implementation that follows the vectors publishes and accepts Umbra's
 * message notices.
 */
class NoticesWireTest {
  private static final HexFormat HEX = HexFormat.of();

  @Test
  void aNoticeIsSealedAsTheConformanceVectorOfTheMessageNoticeDomain() throws Exception {
    JsonObject v = vector();
    String[] ids = v.getString("channel").substring("umbra.msg.r.".length()).split("\\.");
    UUID ws = UUID.fromString(ids[0]);
    UUID recipient = UUID.fromString(ids[1]);
    assertThat(BusNames.messageRecipient(ws, recipient)).isEqualTo(v.getString("channel"));
    Notices notices =
        new Notices(
            InternalCredential.of(v.getString("internal_credential")),
            new SimpleMeterRegistry(),
            Clock.fixed(Instant.ofEpochMilli(v.getLong("unix_millis")), ZoneOffset.UTC));
    byte[] body =
        notices
            .seal(BusNames.messageRecipient(ws, recipient), HEX.parseHex(v.getString("notice")))
            .getBytes();
    assertThat(HEX.formatHex(body)).isEqualTo(v.getString("body"));
  }

  private static JsonObject vector() throws Exception {
    Path file =
        Path.of(System.getProperty("umbra.repo.dir", "../.."))
            .resolve("shared/crypto/conformance/bus-notice.json");
    for (Object o : new JsonObject(Files.readString(file)).getJsonArray("vectors")) {
      JsonObject v = (JsonObject) o;
      if (v.getString("domain").equals(CryptoConstants.MESSAGE_NOTICE_DOMAIN)) {
        return v;
      }
    }
    throw new AssertionError("bus-notice.json has no " + CryptoConstants.MESSAGE_NOTICE_DOMAIN);
  }
}
