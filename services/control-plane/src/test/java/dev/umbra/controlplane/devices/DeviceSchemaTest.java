package dev.umbra.controlplane.devices;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.proto.api.Device;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI schema {@code Device} documents exactly the members of the shared answer record
 * (shared/proto {@link Device}, what the routes send and the clients read), in its order.
 */
class DeviceSchemaTest {

  @Test
  void theDeviceSchemaNamesTheMembersOfTheSharedAnswer() {
    UUID id = UUID.randomUUID();
    Device d =
        new Device(
            id,
            id,
            id,
            "laptop",
            "cli",
            "pending",
            "aa",
            "bb",
            new JsonObject().put("payload", "{}").put("signature", "cc"),
            null,
            null,
            null,
            "2026-12-01T00:00Z",
            null,
            null,
            null);
    JsonObject schema = TrustSchemas.DEVICE.inline();
    assertThat(new ArrayList<>(schema.getJsonObject("properties").fieldNames()))
        .containsExactlyElementsOf(d.toJson().fieldNames());
    assertThat(schema.getJsonArray("required").getList())
        .containsExactlyInAnyOrderElementsOf(
            d.toJson().fieldNames().stream().filter(m -> !m.equals("webtty_key")).toList());
  }
}
