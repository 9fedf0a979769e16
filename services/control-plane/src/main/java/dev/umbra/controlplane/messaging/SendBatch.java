package dev.umbra.controlplane.messaging;

import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The body of {@code POST /messages/batch} (docs/messaging.md, "Batches"): {@code
 * {"messages":[send, ...]}} with 1 to {@value #MAX_MESSAGES} sends, each the body of a single
 * {@code POST /messages}. The batch as a whole is refused (400) only when its outer shape is wrong;
 * a message that does not parse is refused alone, in its place of the answer, and the others go on.
 */
record SendBatch(List<Item> items) {
  /** Most messages in one batch (one group transaction's worth, {@link SendGroups#MAX_GROUP}). */
  static final int MAX_MESSAGES = SendGroups.MAX_GROUP;

  private static final Set<String> SEND_FIELDS = Set.of("id", "conversation_id", "copies");

  /** One send: a client-generated id, its conversation, one ciphertext per recipient. */
  record Send(UUID id, UUID conversation, Map<UUID, byte[]> copies) {
    /** A send's members (the body of {@code POST /messages}, or one message of a batch). */
    static Send parse(JsonObject body) {
      UUID id = Requests.uuid(Requests.string(body, "id", 36, 36), "id");
      UUID conversation =
          Requests.uuid(Requests.string(body, "conversation_id", 36, 36), "conversation_id");
      return new Send(id, conversation, SendBatch.copies(body));
    }
  }

  /**
   * One message of a batch, in its place: parsed ({@code send}), or refused ({@code refused}) with
   * its id when that much was readable (else null).
   */
  record Item(UUID id, Send send, ApiException refused) {}

  /** Parses a batch body's text; throws the 400 of a batch whose outer shape is wrong. */
  static SendBatch parse(String raw) {
    JsonObject body = Requests.body(raw, "messages");
    if (!(body.getValue("messages") instanceof JsonArray a)
        || a.isEmpty()
        || a.size() > MAX_MESSAGES) {
      throw ApiException.badRequest(
          "messages", "messages must be an array of 1 to " + MAX_MESSAGES + " messages");
    }
    List<Item> items = new ArrayList<>(a.size());
    for (Object o : a) {
      items.add(item(o));
    }
    return new SendBatch(items);
  }

  private static Item item(Object o) {
    if (!(o instanceof JsonObject m)) {
      return new Item(null, null, ApiException.badRequest("messages", "each message is an object"));
    }
    UUID id = readableId(m);
    for (String f : m.fieldNames()) {
      if (!SEND_FIELDS.contains(f)) {
        return new Item(id, null, ApiException.badRequest(null, "unknown member in a message"));
      }
    }
    try {
      Send s = Send.parse(m);
      return new Item(s.id(), s, null);
    } catch (ApiException e) {
      return new Item(id, null, e);
    }
  }

  private static UUID readableId(JsonObject m) {
    try {
      return m.getValue("id") instanceof String s ? Requests.uuid(s, "id") : null;
    } catch (ApiException e) {
      return null;
    }
  }

  /** The copies of a send: 1 to {@value MessageRoutes#MAX_COPIES}, one per recipient. */
  static Map<UUID, byte[]> copies(JsonObject body) {
    Object v = body.getValue("copies");
    if (!(v instanceof JsonArray a) || a.isEmpty() || a.size() > MessageRoutes.MAX_COPIES) {
      throw ApiException.badRequest(
          "copies", "copies must be an array of 1 to " + MessageRoutes.MAX_COPIES + " copies");
    }
    Map<UUID, byte[]> out = new LinkedHashMap<>();
    for (Object o : a) {
      if (!(o instanceof JsonObject c)) {
        throw ApiException.badRequest("copies", "each copy is an object");
      }
      for (String f : c.fieldNames()) {
        if (!f.equals("recipient_id") && !f.equals("ciphertext")) {
          throw ApiException.badRequest("copies", "unknown field '" + f + "' in a copy");
        }
      }
      UUID r = Requests.uuid(Requests.string(c, "recipient_id", 36, 36), "recipient_id");
      if (out.put(r, Parties.bytes(c, "ciphertext", 1, MessageRoutes.MAX_CIPHERTEXT)) != null) {
        throw ApiException.badRequest("copies", "one copy per recipient");
      }
    }
    return out;
  }
}
