package dev.umbra.pairing.codes;

import dev.umbra.kit.http.ApiException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** Validation of the pairing API's outside input; each failure is a 400 naming the field. */
final class Input {
  private Input() {}

  static JsonObject body(RoutingContext ctx, Set<String> allowed) {
    return body(ctx.body() == null ? null : ctx.body().asString(), allowed);
  }

  /** {@link #body(RoutingContext, Set)} of the body's text (the fuzz harness feeds it directly). */
  static JsonObject body(String raw, Set<String> allowed) {
    if (raw == null || raw.isBlank()) {
      return new JsonObject();
    }
    Object v;
    try {
      v = Json.decodeValue(raw);
    } catch (DecodeException e) {
      throw ApiException.badRequest(null, "request body is not valid JSON");
    }
    if (!(v instanceof JsonObject o)) {
      throw ApiException.badRequest(null, "request body must be a JSON object");
    }
    for (String k : o.fieldNames()) {
      if (!allowed.contains(k)) {
        throw ApiException.badRequest(k.length() > 40 ? k.substring(0, 40) : k, "unknown field");
      }
    }
    return o;
  }

  static UUID uuid(String value, String field) {
    try {
      // UUID.fromString is lenient ("0192d6e4-0-7000000-8000-..." reads as 0192d6e4-0000-0000-...);
      // only the canonical text is admitted (found by fuzzing)
      if (value != null
          && value.length() == 36
          && UUID.fromString(value).toString().equalsIgnoreCase(value)) {
        return UUID.fromString(value);
      }
    } catch (IllegalArgumentException e) {
      // fall through
    }
    throw ApiException.badRequest(field, field + " must be a UUID");
  }

  static Optional<String> text(JsonObject body, String field, int min, int max) {
    Object v = body.getValue(field);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String s)
        || s.length() < min
        || s.length() > max
        || s.chars().anyMatch(Character::isISOControl)) {
      throw ApiException.badRequest(
          field, field + " must be a string of " + min + " to " + max + " printable characters");
    }
    return Optional.of(s);
  }

  static String required(JsonObject body, String field, int min, int max) {
    return text(body, field, min, max)
        .orElseThrow(() -> ApiException.badRequest(field, field + " is required"));
  }

  static String key32Hex(JsonObject body, String field) {
    String s = required(body, field, 64, 64);
    try {
      HexFormat.of().parseHex(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(field, field + " must be 64 hex digits");
    }
    return s.toLowerCase(java.util.Locale.ROOT);
  }

  static boolean bool(JsonObject body, String field, boolean defaultValue) {
    Object v = body.getValue(field);
    if (v == null) {
      return defaultValue;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw ApiException.badRequest(field, field + " must be true or false");
  }
}
