package dev.umbra.controlplane.http;

import dev.umbra.kit.http.ApiException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** Validation of request input; every failure is a 400 that names the field. */
public final class Requests {
  public static final int MAX_NAME = 64;

  private Requests() {}

  /** The JSON object body, refusing anything else and any member not in {@code allowed}. */
  public static JsonObject body(RoutingContext ctx, String... allowed) {
    return body(ctx.body() == null ? null : ctx.body().asString(), allowed);
  }

  /**
   * {@link #body(RoutingContext, String...)} of the body's text (the fuzz harness feeds it
   * directly).
   */
  public static JsonObject body(String raw, String... allowed) {
    if (raw == null || raw.isBlank()) {
      return new JsonObject();
    }
    JsonObject o;
    try {
      Object v = io.vertx.core.json.Json.decodeValue(raw);
      if (!(v instanceof JsonObject jo)) {
        throw ApiException.badRequest(null, "request body must be a JSON object");
      }
      o = jo;
    } catch (DecodeException e) {
      throw ApiException.badRequest(null, "request body is not valid JSON");
    }
    Set<String> ok = Set.of(allowed);
    for (String k : o.fieldNames()) {
      if (!ok.contains(k)) {
        throw ApiException.badRequest(k, "unknown field '" + truncate(k) + "'");
      }
    }
    return o;
  }

  private static String truncate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }

  /** A UUID path parameter; a malformed one is a 400 naming it. */
  public static UUID uuidParam(RoutingContext ctx, String name) {
    return uuid(ctx.pathParam(name), name);
  }

  public static UUID uuid(String value, String field) {
    if (value == null || value.length() != 36) {
      throw ApiException.badRequest(field, field + " must be a UUID");
    }
    try {
      UUID id = UUID.fromString(value);
      // UUID.fromString is lenient: "01d24e-960000-7000-8000-000000000001" (36 characters) reads
      // as 0001d24e-0000-...; only the canonical text is admitted (found by fuzzing)
      if (id.toString().equalsIgnoreCase(value)) {
        return id;
      }
    } catch (IllegalArgumentException e) {
      // refused below
    }
    throw ApiException.badRequest(field, field + " must be a UUID");
  }

  /** A required string member. */
  public static String string(JsonObject body, String field, int min, int max) {
    return optionalString(body, field, min, max)
        .orElseThrow(() -> ApiException.badRequest(field, field + " is required"));
  }

  /**
   * An optional string member: when present, a string of {@code min..max} characters without
   * control characters.
   */
  public static Optional<String> optionalString(JsonObject body, String field, int min, int max) {
    Object v = body.getValue(field);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String s)) {
      throw ApiException.badRequest(field, field + " must be a string");
    }
    String t = s.strip();
    if (t.length() < min || t.length() > max) {
      throw ApiException.badRequest(
          field, field + " must be " + min + " to " + max + " characters");
    }
    for (int i = 0; i < t.length(); i++) {
      if (Character.isISOControl(t.charAt(i))) {
        throw ApiException.badRequest(field, field + " must not contain control characters");
      }
    }
    return Optional.of(t);
  }

  /** A display name: 1..64 characters. */
  public static String name(JsonObject body, String field) {
    return string(body, field, 1, MAX_NAME);
  }

  /** One of {@code allowed} (lowercase wire values). */
  public static String oneOf(
      JsonObject body, String field, String defaultValue, String... allowed) {
    Object v = body.getValue(field);
    if (v == null) {
      if (defaultValue == null) {
        throw ApiException.badRequest(field, field + " is required");
      }
      return defaultValue;
    }
    if (v instanceof String s) {
      for (String a : allowed) {
        if (a.equals(s)) {
          return s;
        }
      }
    }
    throw ApiException.badRequest(field, field + " must be one of " + String.join(", ", allowed));
  }

  /** A 32-byte key given as 64 lowercase or uppercase hex digits. */
  public static byte[] key32(JsonObject body, String field) {
    String s = string(body, field, 64, 64);
    try {
      return HexFormat.of().parseHex(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(field, field + " must be 64 hex digits");
    }
  }
}
