package dev.umbra.proto.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * Reads the members of one API answer for a typed record, failing with a {@link
 * ResponseShapeException} that names the record and the member when the answer is not what the API
 * documents (/v1/openapi.json).
 */
public final class ResponseFields {
  private final JsonObject json;
  private final String record;

  private ResponseFields(JsonObject json, String record) {
    this.json = json;
    this.record = record;
  }

  /** The members of {@code json}, read as a {@code record}; a null answer is refused. */
  public static ResponseFields of(JsonObject json, String record) {
    if (json == null) {
      throw new ResponseShapeException(record + ": no answer");
    }
    return new ResponseFields(json, record);
  }

  /**
   * Every element of a list answer's {@code items} (or of a bare array) read with {@code reader}.
   */
  public static <T> List<T> list(JsonArray items, Function<JsonObject, T> reader) {
    List<T> out = new ArrayList<>();
    for (int i = 0; items != null && i < items.size(); i++) {
      if (!(items.getValue(i) instanceof JsonObject o)) {
        throw new ResponseShapeException("list element " + i + " is not an object");
      }
      out.add(reader.apply(o));
    }
    return Collections.unmodifiableList(out);
  }

  public String string(String member) {
    String s = optionalString(member);
    if (s == null) {
      throw missing(member);
    }
    return s;
  }

  /** The member's string, or null when it is absent or null. */
  public String optionalString(String member) {
    return optional(member, String.class, "a string");
  }

  public UUID uuid(String member) {
    String s = string(member);
    try {
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      throw mistyped(member, "a UUID");
    }
  }

  /** The member's integer, or null when it is absent or null. */
  public Integer optionalInteger(String member) {
    Object v = json.getValue(member);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Integer || v instanceof Long)
        || ((Number) v).longValue() != ((Number) v).intValue()) {
      throw mistyped(member, "an integer");
    }
    return ((Number) v).intValue();
  }

  /** The member's object, or null when it is absent or null. */
  public JsonObject optionalObject(String member) {
    return optional(member, JsonObject.class, "an object");
  }

  public JsonObject object(String member) {
    JsonObject o = optionalObject(member);
    if (o == null) {
      throw missing(member);
    }
    return o;
  }

  private <T> T optional(String member, Class<T> type, String expected) {
    Object v = json.getValue(member);
    if (v == null) {
      return null;
    }
    if (!type.isInstance(v)) {
      throw mistyped(member, expected);
    }
    return type.cast(v);
  }

  private ResponseShapeException missing(String member) {
    return new ResponseShapeException(record + "." + member + " is missing from the API's answer");
  }

  private ResponseShapeException mistyped(String member, String expected) {
    return new ResponseShapeException(
        record + "." + member + " in the API's answer is not " + expected);
  }
}
