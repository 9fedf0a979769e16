package dev.umbra.client.api;

import dev.umbra.proto.api.ResponseFields;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;

/** A workspace member as the control plane answers it (schema {@code Member}). */
public record Member(UUID id, UUID accountId, String name, String role, String createdAt) {

  public static Member fromJson(JsonObject json) {
    ResponseFields f = ResponseFields.of(json, "Member");
    return new Member(
        f.uuid("id"),
        f.uuid("account_id"),
        f.string("name"),
        f.string("role"),
        f.string("created_at"));
  }

  public static List<Member> listFromJson(JsonArray items) {
    return ResponseFields.list(items, Member::fromJson);
  }
}
