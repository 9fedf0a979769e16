package dev.umbra.kit.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.kit.http.Requests.Invalid;
import dev.umbra.kit.http.Requests.Refusal;
import io.vertx.core.json.JsonObject;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The one request-validation helper: each refusal is a 400 {@code invalid_request} with its typed
 * reason and the field at fault (the services' fuzz tests feed it their routes' bodies).
 */
class RequestsTest {
  private static void refused(ThrowingCallable call, Refusal why, String field, String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            Invalid.class,
            e -> {
              assertThat(e.refusal()).isEqualTo(why);
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.code()).isEqualTo("invalid_request");
              assertThat(e.field()).isEqualTo(field);
              assertThat(e.getMessage()).isEqualTo(message);
            });
  }

  @Test
  void aBodyIsAJsonObjectWithOnlyTheRoutesMembers() {
    assertThat(Requests.body((String) null, "a")).isEmpty();
    assertThat(Requests.body("  ", "a")).isEmpty();
    assertThat(Requests.body("{\"a\":1}", "a").getInteger("a")).isEqualTo(1);
    refused(
        () -> Requests.body("{\"a\":", "a"),
        Refusal.NOT_JSON,
        null,
        "request body is not valid JSON");
    refused(
        () -> Requests.body("[1]", "a"),
        Refusal.NOT_OBJECT,
        null,
        "request body must be a JSON object");
    refused(() -> Requests.body("{\"b\":1}", "a"), Refusal.UNKNOWN_FIELD, "b", "unknown field 'b'");
    String longName = "x".repeat(500);
    refused(
        () -> Requests.body("{\"" + longName + "\":1}", "a"),
        Refusal.UNKNOWN_FIELD,
        "x".repeat(40),
        "unknown field '" + "x".repeat(40) + "...'");
  }

  @Test
  void stringsAreBoundedPrintableAndStrippedUnlessVerbatim() {
    JsonObject b = new JsonObject().put("s", "  abc  ").put("n", 5).put("c", "a\u0007b");
    assertThat(Requests.string(b, "s", 1, 3)).isEqualTo("abc");
    assertThat(Requests.verbatim(b, "s", 1, 7)).isEqualTo("  abc  ");
    refused(
        () -> Requests.verbatim(b, "s", 1, 3), Refusal.LENGTH, "s", "s must be 1 to 3 characters");
    refused(() -> Requests.string(b, "x", 1, 3), Refusal.MISSING, "x", "x is required");
    refused(() -> Requests.string(b, "n", 1, 3), Refusal.NOT_STRING, "n", "n must be a string");
    refused(
        () -> Requests.string(b, "c", 1, 9),
        Refusal.CONTROL_CHARACTER,
        "c",
        "c must not contain control characters");
    assertThat(Requests.optionalString(b, "x", 1, 3)).isEmpty();
  }

  @Test
  void uuidsAreCanonicalAndKeysAreHex() {
    String id = "0192d6e4-0000-7000-8000-000000000001";
    assertThat(Requests.uuid(id.toUpperCase(), "id").toString()).isEqualTo(id);
    // lenient UUID.fromString would read this 36-character text as a different id
    refused(
        () -> Requests.uuid("01d24e-960000-7000-8000-000000000001", "id"),
        Refusal.NOT_UUID,
        "id",
        "id must be a UUID");
    refused(() -> Requests.uuid(null, "id"), Refusal.NOT_UUID, "id", "id must be a UUID");
    JsonObject k = new JsonObject().put("k", "AB".repeat(32)).put("z", "zz".repeat(32));
    assertThat(Requests.key32(k, "k")).hasSize(32);
    assertThat(Requests.key32Hex(k, "k")).isEqualTo("ab".repeat(32));
    refused(() -> Requests.key32(k, "z"), Refusal.NOT_HEX, "z", "z must be 64 hex digits");
  }

  @Test
  void choicesAndBooleans() {
    JsonObject b = new JsonObject().put("r", "admin").put("t", true).put("f", "yes");
    assertThat(Requests.oneOf(b, "r", null, "admin", "member")).isEqualTo("admin");
    assertThat(Requests.oneOf(b, "x", "member", "admin", "member")).isEqualTo("member");
    refused(
        () -> Requests.oneOf(b, "f", null, "admin", "member"),
        Refusal.NOT_ONE_OF,
        "f",
        "f must be one of admin, member");
    assertThat(Requests.bool(b, "t", false)).isTrue();
    assertThat(Requests.bool(b, "x", true)).isTrue();
    refused(
        () -> Requests.bool(b, "f", false), Refusal.NOT_BOOLEAN, "f", "f must be true or false");
  }
}
