package dev.umbra.client.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.proto.api.ResponseShapeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The typed answers read what the control plane documents and refuse, by name, what it does not.
 */
class ResponseRecordsTest {
  private static final String ID = "00000000-0000-0000-0000-000000000001";
  private static final String W = "00000000-0000-0000-0000-000000000002";

  private static JsonObject machine() {
    return new JsonObject()
        .put("id", ID)
        .put("workspace_id", W)
        .put("install_id", ID)
        .put("name", "web-1")
        .put("os", "linux")
        .put("x25519_public_key", "aa")
        .put("ed25519_public_key", "bb")
        .put("created_at", "2026-01-01T00:00:00Z")
        .putNull("last_seen_at")
        .putNull("revoked_at")
        .put("status", "active");
  }

  @Test
  void aMachineReadsItsMembersAndNullableTimes() {
    Machine m = Machine.fromJson(machine());
    assertThat(m.id()).isEqualTo(UUID.fromString(ID));
    assertThat(m.name()).isEqualTo("web-1");
    assertThat(m.active()).isTrue();
    assertThat(m.lastSeenAt()).isNull();
  }

  @Test
  void aMissingMemberIsNamedWithItsRecord() {
    assertThatThrownBy(() -> Machine.fromJson(machine().copy().put("name", (String) null)))
        .isInstanceOf(ResponseShapeException.class)
        .hasMessage("Machine.name is missing from the API's answer");
  }

  @Test
  void aMistypedMemberIsNamedWithoutItsValue() {
    assertThatThrownBy(() -> Machine.fromJson(machine().put("id", "not-a-uuid")))
        .isInstanceOf(ResponseShapeException.class)
        .hasMessage("Machine.id in the API's answer is not a UUID");
    assertThatThrownBy(
            () ->
                Member.fromJson(
                    new JsonObject()
                        .put("id", ID)
                        .put("account_id", W)
                        .put("name", 7)
                        .put("role", "admin")
                        .put("created_at", "t")))
        .isInstanceOf(ResponseShapeException.class)
        .hasMessage("Member.name in the API's answer is not a string");
  }

  @Test
  void aListReadsEveryItemAndRefusesANonObject() {
    assertThat(Machine.listFromJson(new JsonArray().add(machine()).add(machine()))).hasSize(2);
    assertThatThrownBy(() -> Machine.listFromJson(new JsonArray().add("x")))
        .isInstanceOf(ResponseShapeException.class)
        .hasMessageContaining("element 0");
  }

  @Test
  void anApiTokenKeepsItsOptionalTimes() {
    ApiToken t =
        ApiToken.fromJson(
            new JsonObject()
                .put("id", ID)
                .put("name", "ci")
                .put("scope", "read")
                .put("created_at", "t"));
    assertThat(t.lastUsedAt()).isNull();
    assertThat(t.scope()).isEqualTo("read");
  }
}
