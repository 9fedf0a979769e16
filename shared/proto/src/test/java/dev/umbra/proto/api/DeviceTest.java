package dev.umbra.proto.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The device answer is one record for both sides: what the control plane writes is what the clients
 * read back, member for member and in the same order, and a malformed answer is refused by name.
 */
class DeviceTest {
  private static final String ID = "00000000-0000-0000-0000-000000000001";
  private static final String W = "00000000-0000-0000-0000-000000000002";
  private static final JsonObject REQUEST =
      new JsonObject()
          .put("payload", "{\"type\":\"umbra-device-request/v1\"}")
          .put("signature", "ab");

  /** A pending device as the control plane sends it (every member, nulls included). */
  private static String pendingOnTheWire() {
    return "{\"id\":\""
        + ID
        + "\",\"workspace_id\":\""
        + W
        + "\",\"account_id\":\""
        + W
        + "\",\"name\":\"laptop\",\"kind\":\"cli\",\"status\":\"pending\""
        + ",\"ed25519_public_key\":\"aa\",\"p256_public_key\":\"bb\",\"request\":"
        + REQUEST.encode()
        + ",\"credential\":null,\"revocation\":null,\"keyset_version\":null"
        + ",\"created_at\":\"2026-12-01T00:00Z\",\"approved_at\":null,\"revoked_at\":null"
        + ",\"webtty_key\":null}";
  }

  @Test
  void whatTheControlPlaneWritesTheClientsReadBackUnchanged() {
    Device d = Device.fromJson(new JsonObject(pendingOnTheWire()));
    assertThat(d.id()).isEqualTo(UUID.fromString(ID));
    assertThat(d.pending()).isTrue();
    assertThat(d.request()).isEqualTo(REQUEST);
    assertThat(d.keysetVersion()).isNull();
    assertThat(d.webttyKey()).isNull();
    assertThat(d.toJson().encode()).isEqualTo(pendingOnTheWire());
  }

  @Test
  void aTrustedDeviceKeepsItsSignedDocumentsAsJson() {
    JsonObject credential = new JsonObject().put("payload", "{}").put("signature", "cd");
    JsonObject json =
        new JsonObject(pendingOnTheWire())
            .put("status", "trusted")
            .put("credential", credential)
            .put("keyset_version", 2)
            .put("approved_at", "2026-12-02T00:00Z");
    Device d = Device.fromJson(json);
    assertThat(d.pending()).isFalse();
    assertThat(d.credential()).isEqualTo(credential);
    assertThat(d.keysetVersion()).isEqualTo(2);
    assertThat(d.toJson()).isEqualTo(json);
    assertThat(Device.listFromJson(new JsonArray().add(json).add(json))).containsExactly(d, d);
  }

  @Test
  void theAnswerToARejectionIsTheSameDeviceRejected() {
    Device d = Device.fromJson(new JsonObject(pendingOnTheWire()));
    Device rejected = d.withStatus("rejected");
    assertThat(rejected.status()).isEqualTo("rejected");
    assertThat(rejected.toJson().put("status", "pending")).isEqualTo(d.toJson());
  }

  @Test
  void aMalformedAnswerIsRefusedByRecordAndMember() {
    assertThatThrownBy(
            () -> Device.fromJson(new JsonObject(pendingOnTheWire()).put("keyset_version", "1")))
        .isInstanceOf(ResponseShapeException.class)
        .hasMessage("Device.keyset_version in the API's answer is not an integer");
    assertThatThrownBy(() -> Device.fromJson(new JsonObject(pendingOnTheWire()).putNull("request")))
        .isInstanceOf(ResponseShapeException.class)
        .hasMessage("Device.request is missing from the API's answer");
    assertThatThrownBy(() -> Device.fromJson(null))
        .isInstanceOf(ResponseShapeException.class)
        .hasMessage("Device: no answer");
  }
}
