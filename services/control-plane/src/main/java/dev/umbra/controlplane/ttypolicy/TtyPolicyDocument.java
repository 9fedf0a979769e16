package dev.umbra.controlplane.ttypolicy;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.crypto.webtty.PolicyDocumentSchema;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A {@code umbra-webtty-policy/v1} document as an admin sends it (docs/webtty.md, "Server policy"),
 * checked against the route's ids, its schema and the clock: canonical JSON, known members only,
 * {@code issued_at} within {@link #ISSUED_SKEW}, a signer exactly when signed, and reviewers
 * (trusted devices with their signed WebTTY key bindings) only in a signed document. Each broken
 * rule is a {@link Refusal.Invalid} of {@code policy}.
 */
record TtyPolicyDocument(
    String payload,
    byte[] signature,
    long version,
    boolean recording,
    String join,
    boolean recordStdin,
    UUID signer) {
  static final String TYPE = PolicyDocumentSchema.TYPE;

  /** How far a document's {@code issued_at} may be from the server's clock when it is set. */
  static final Duration ISSUED_SKEW = Duration.ofMinutes(10);

  /** The daemon's bound too (reviewers carry their devices' signed WebTTY key bindings). */
  static final int MAX_PAYLOAD = PolicyDocumentSchema.MAX_DOCUMENT;

  static final int MAX_REVIEWERS = PolicyDocumentSchema.MAX_REVIEWERS;
  static final Set<String> JOIN = Set.of("nobody", "members", "admins");

  private static Refusal invalid(String message) {
    return Refusal.invalid("policy", message);
  }

  /**
   * Parses and checks the {@code policy} member of a request to set the policy of machine {@code
   * mid} in {@code wid}.
   */
  static TtyPolicyDocument parse(JsonObject body, UUID wid, UUID mid, Instant now) {
    if (!(body.getValue("policy") instanceof JsonObject o)) {
      throw invalid(
          "policy must be an object with payload and (under Workspace Protection) signature");
    }
    for (String k : o.fieldNames()) {
      if (!k.equals("payload") && !k.equals("signature")) {
        throw invalid("policy has an unknown member");
      }
    }
    if (!(o.getValue("payload") instanceof String payload)
        || payload.isEmpty()
        || payload.length() > MAX_PAYLOAD) {
      throw invalid(
          "policy.payload must be a canonical JSON string of at most "
              + MAX_PAYLOAD
              + " characters");
    }
    byte[] sig = o.containsKey("signature") ? signature(o.getValue("signature")) : null;
    Map<?, ?> f = fields(payload, wid, mid);
    if (!(f.get("version") instanceof Long v) || v < 1) {
      throw invalid("policy.payload.version must be a positive integer");
    }
    if (!(f.get("recording") instanceof Boolean rec)
        || !(f.get("record_stdin") instanceof Boolean stdin)) {
      throw invalid("policy.payload.recording and record_stdin must be true or false");
    }
    if (!(f.get("join") instanceof String join) || !JOIN.contains(join)) {
      throw invalid("policy.payload.join must be nobody, members or admins");
    }
    checkIssuedAt(f.get("issued_at"), now);
    UUID signer = signer(f.get("signer_device_id"));
    if ((signer == null) != (sig == null)) {
      throw invalid("a signed policy names its signer_device_id; an unsigned one names none");
    }
    if (f.containsKey("reviewers") && (signer == null || !reviewers(f.get("reviewers")))) {
      throw invalid(
          "policy.payload.reviewers must be 1 to "
              + MAX_REVIEWERS
              + " {device_id, webtty_key} entries of a signed policy");
    }
    return new TtyPolicyDocument(payload, sig, v, rec, join, stdin, signer);
  }

  private static byte[] signature(Object value) {
    if (!(value instanceof String s) || s.length() != 128) {
      throw invalid("policy.signature must be 128 hex digits");
    }
    try {
      return HexFormat.of().parseHex(s);
    } catch (IllegalArgumentException e) {
      throw invalid("policy.signature must be 128 hex digits");
    }
  }

  /**
   * The payload's members: a canonical JSON object of known members, of this type, naming this
   * workspace and machine.
   */
  private static Map<?, ?> fields(String payload, UUID wid, UUID mid) {
    Map<?, ?> f;
    try {
      f = PolicyDocumentSchema.members(payload);
    } catch (PolicyDocumentSchema.Invalid e) {
      throw invalid(
          switch (e.problem()) {
            case SIZE, NOT_CANONICAL, NOT_AN_OBJECT ->
                "policy.payload must be a canonical JSON object";
            case MALFORMED -> "policy.payload is malformed";
            case UNKNOWN_MEMBER -> "policy.payload has an unknown member";
            case WRONG_TYPE -> "policy.payload must have type " + TYPE;
          });
    }
    if (!wid.toString().equals(f.get("workspace_id"))
        || !mid.toString().equals(f.get("machine_id"))) {
      throw invalid("policy.payload names another workspace or machine");
    }
    return f;
  }

  private static void checkIssuedAt(Object value, Instant now) {
    if (!(value instanceof String issued)) {
      throw invalid("policy.payload.issued_at must be an ISO-8601 UTC time");
    }
    Instant at;
    try {
      at = Instant.parse(issued);
    } catch (DateTimeParseException e) {
      throw invalid("policy.payload.issued_at must be an ISO-8601 UTC time");
    }
    if (Duration.between(at, now).abs().compareTo(ISSUED_SKEW) > 0) {
      throw invalid("policy.payload.issued_at is too far from the server's clock");
    }
  }

  /**
   * The signer device's id; null when the document names none. Daemons accept lowercase UUIDs only.
   */
  private static UUID signer(Object value) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof String str) || str.length() != 36) {
      throw invalid("policy.payload.signer_device_id must be a UUID");
    }
    UUID id;
    try {
      id = UUID.fromString(str);
    } catch (IllegalArgumentException e) {
      throw invalid("policy must be a UUID");
    }
    if (!id.toString().equalsIgnoreCase(str)) {
      throw invalid("policy must be a UUID");
    }
    if (!id.toString().equals(str)) {
      throw invalid("policy.payload.signer_device_id must be a lowercase UUID");
    }
    return id;
  }

  /**
   * 1 to {@link #MAX_REVIEWERS} entries of exactly {@code device_id} (a string) and {@code
   * webtty_key} (an object).
   */
  private static boolean reviewers(Object value) {
    return value instanceof List<?> list
        && !list.isEmpty()
        && list.size() <= MAX_REVIEWERS
        && list.stream()
            .allMatch(
                e ->
                    e instanceof Map<?, ?> m
                        && m.size() == 2
                        && m.get("device_id") instanceof String
                        && m.get("webtty_key") instanceof Map<?, ?>);
  }
}
