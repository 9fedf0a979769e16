package dev.umbra.kit.http;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The one validation of request input every service uses (issue 16): a JSON object body with only
 * the route's members, path parameters and members of the documented shapes. Every failure is an
 * {@link Invalid} — a 400 {@code invalid_request} naming the field at fault, with its {@link
 * Refusal} — so a handler never sees a value it did not ask for.
 */
public final class Requests {
  /** Longest field name echoed back for an unknown member. */
  public static final int MAX_ECHOED_FIELD = 40;

  /** A display name: 1..64 characters. */
  public static final int MAX_NAME = 64;

  /** Why input was refused. */
  public enum Refusal {
    /** The body is not JSON. */
    NOT_JSON,
    /** The body is JSON but not an object. */
    NOT_OBJECT,
    /** A member the route does not read. */
    UNKNOWN_FIELD,
    /** A required member or parameter is absent. */
    MISSING,
    /** Not a string. */
    NOT_STRING,
    /** A string outside its length bounds. */
    LENGTH,
    /** A string with a control character. */
    CONTROL_CHARACTER,
    /** Not a canonical UUID. */
    NOT_UUID,
    /** Not one of the allowed values. */
    NOT_ONE_OF,
    /** Not the expected hex digits. */
    NOT_HEX,
    /** Not true or false. */
    NOT_BOOLEAN
  }

  /** A refused input: a 400 {@code invalid_request} naming the field, with the typed reason. */
  public static final class Invalid extends ApiException {
    private final Refusal refusal;

    Invalid(Refusal refusal, String field, String message) {
      super(400, "invalid_request", message, field);
      this.refusal = refusal;
    }

    public Refusal refusal() {
      return refusal;
    }
  }

  private Requests() {}

  private static Invalid invalid(Refusal refusal, String field, String message) {
    return new Invalid(refusal, field, message);
  }

  /** The JSON object body, refusing anything else and any member not in {@code allowed}. */
  public static JsonObject body(RoutingContext ctx, String... allowed) {
    return body(ctx.body() == null ? null : ctx.body().asString(), Set.of(allowed));
  }

  /** {@link #body(RoutingContext, String...)} with the members as a set. */
  public static JsonObject body(RoutingContext ctx, Set<String> allowed) {
    return body(ctx.body() == null ? null : ctx.body().asString(), allowed);
  }

  /** {@link #body(RoutingContext, String...)} of the body's text (fuzz harnesses feed it). */
  public static JsonObject body(String raw, String... allowed) {
    return body(raw, Set.of(allowed));
  }

  /**
   * The body's text as a JSON object whose members are all in {@code allowed}; no body is an empty
   * object. An unknown member is named, truncated to {@value #MAX_ECHOED_FIELD} characters.
   */
  public static JsonObject body(String raw, Set<String> allowed) {
    if (raw == null || raw.isBlank()) {
      return new JsonObject();
    }
    Object v;
    try {
      v = Json.decodeValue(raw);
    } catch (DecodeException e) {
      throw invalid(Refusal.NOT_JSON, null, "request body is not valid JSON");
    }
    if (!(v instanceof JsonObject o)) {
      throw invalid(Refusal.NOT_OBJECT, null, "request body must be a JSON object");
    }
    for (String k : o.fieldNames()) {
      if (!allowed.contains(k)) {
        String shown = k.length() > MAX_ECHOED_FIELD ? k.substring(0, MAX_ECHOED_FIELD) + "..." : k;
        throw invalid(
            Refusal.UNKNOWN_FIELD,
            k.length() > MAX_ECHOED_FIELD ? k.substring(0, MAX_ECHOED_FIELD) : k,
            "unknown field '" + shown + "'");
      }
    }
    return o;
  }

  /** A UUID path parameter; a malformed one is refused naming it. */
  public static UUID uuidParam(RoutingContext ctx, String name) {
    return uuid(ctx.pathParam(name), name);
  }

  /** {@code value} as a UUID in its canonical text (either case). */
  public static UUID uuid(String value, String field) {
    if (value != null && value.length() == 36) {
      try {
        UUID id = UUID.fromString(value);
        // UUID.fromString is lenient: "01d24e-960000-7000-8000-000000000001" (36 characters)
        // reads as 0001d24e-0000-...; only the canonical text is admitted (found by fuzzing)
        if (id.toString().equalsIgnoreCase(value)) {
          return id;
        }
      } catch (IllegalArgumentException e) {
        // refused below
      }
    }
    throw invalid(Refusal.NOT_UUID, field, field + " must be a UUID");
  }

  /** A required string member, stripped: {@code min..max} characters, no control characters. */
  public static String string(JsonObject body, String field, int min, int max) {
    return optionalString(body, field, min, max).orElseThrow(() -> missing(field));
  }

  /**
   * An optional string member: when present, a string that, stripped of surrounding white space,
   * has {@code min..max} characters and no control characters.
   */
  public static Optional<String> optionalString(JsonObject body, String field, int min, int max) {
    return optionalText(body, field, min, max, true);
  }

  /**
   * A required string member taken exactly as given (nothing stripped), for secrets such as a PSK
   * that are compared as typed: {@code min..max} characters, no control characters.
   */
  public static String verbatim(JsonObject body, String field, int min, int max) {
    return optionalVerbatim(body, field, min, max).orElseThrow(() -> missing(field));
  }

  /** {@link #verbatim} of an optional member. */
  public static Optional<String> optionalVerbatim(JsonObject body, String field, int min, int max) {
    return optionalText(body, field, min, max, false);
  }

  private static Optional<String> optionalText(
      JsonObject body, String field, int min, int max, boolean strip) {
    Object v = body.getValue(field);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String s)) {
      throw invalid(Refusal.NOT_STRING, field, field + " must be a string");
    }
    String t = strip ? s.strip() : s;
    if (t.length() < min || t.length() > max) {
      throw invalid(
          Refusal.LENGTH, field, field + " must be " + min + " to " + max + " characters");
    }
    for (int i = 0; i < t.length(); i++) {
      if (Character.isISOControl(t.charAt(i))) {
        throw invalid(
            Refusal.CONTROL_CHARACTER, field, field + " must not contain control characters");
      }
    }
    return Optional.of(t);
  }

  private static Invalid missing(String field) {
    return invalid(Refusal.MISSING, field, field + " is required");
  }

  /** A display name: 1..64 characters. */
  public static String name(JsonObject body, String field) {
    return string(body, field, 1, MAX_NAME);
  }

  /** One of {@code allowed} (lowercase wire values); {@code defaultValue} when absent (or null). */
  public static String oneOf(
      JsonObject body, String field, String defaultValue, String... allowed) {
    Object v = body.getValue(field);
    if (v == null) {
      if (defaultValue == null) {
        throw missing(field);
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
    throw invalid(
        Refusal.NOT_ONE_OF, field, field + " must be one of " + String.join(", ", allowed));
  }

  /** A 32-byte key given as 64 lowercase or uppercase hex digits. */
  public static byte[] key32(JsonObject body, String field) {
    String s = string(body, field, 64, 64);
    try {
      return HexFormat.of().parseHex(s);
    } catch (IllegalArgumentException e) {
      throw invalid(Refusal.NOT_HEX, field, field + " must be 64 hex digits");
    }
  }

  /** {@link #key32} as 64 lower-case hex digits. */
  public static String key32Hex(JsonObject body, String field) {
    return HexFormat.of().formatHex(key32(body, field)).toLowerCase(Locale.ROOT);
  }

  /** A boolean member; {@code defaultValue} when absent. */
  public static boolean bool(JsonObject body, String field, boolean defaultValue) {
    Object v = body.getValue(field);
    if (v == null) {
      return defaultValue;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw invalid(Refusal.NOT_BOOLEAN, field, field + " must be true or false");
  }
}
