package dev.umbra.controlplane.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.SeedMutations;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the control plane's request-body parsing: the body parser and field validators
 * every route uses, with the member lists of the routes' bodies (POST/PATCH/PUT of tokens,
 * workspaces, members, invitations, bootstrap, machines, machine sessions, device trust, vault,
 * WebTTY policies), without a server. Contract: a body is refused with a 400 {@link ApiException}
 * that names a member of the route, an unknown member (truncated to 40 characters) or nothing (not
 * a JSON object), and with nothing else; an admitted value has the documented shape.
 */
class RequestBodiesFuzzTest {
  /** The member lists of the routes' bodies (as in each route's Requests.body call). */
  static final List<List<String>> ROUTE_BODIES =
      List.of(
          List.of("name", "scope"),
          List.of("name"),
          List.of("role"),
          List.of("role", "note"),
          List.of("token", "account_name"),
          List.of("token", "account_name", "workspace_name"),
          List.of("workspace_id", "audience"),
          List.of(
              "install_id", "x25519_public_key", "ed25519_public_key", "name", "os", "paired_by"),
          List.of("workspace_id", "machine_id", "audience", "timestamp_ms", "signature"),
          List.of("workspace_id", "machine_id", "timestamp_ms", "signature", "name"),
          List.of("keyset", "devices", "recovery_kits"),
          List.of("keyset", "request", "credential", "envelope"),
          List.of("credential", "envelope"),
          List.of("kit", "envelope"),
          List.of("machine_id", "keyset_version", "enc", "ciphertext"),
          List.of("name", "keyset_version", "enc", "ciphertext"),
          List.of("request"),
          List.of("revocation"),
          List.of("policy"));

  /** Every build: the seeds and 3,000 deterministic mutants of them, with every route's members. */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "bodiesAreAdmittedWellFormedOrRefusedWith400NamingAMember",
                3_000,
                input -> {
                  String raw =
                      new String(input, 0, Math.max(0, input.length - 2), StandardCharsets.UTF_8);
                  for (List<String> members : ROUTE_BODIES) {
                    check(members, (input.length + members.size()) % 6, raw);
                  }
                }))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void bodiesAreAdmittedWellFormedOrRefusedWith400NamingAMember(FuzzedDataProvider data) {
    List<String> members = ROUTE_BODIES.get(data.consumeInt(0, ROUTE_BODIES.size() - 1));
    int validator = data.consumeInt(0, 5);
    check(members, validator, data.consumeRemainingAsString());
  }

  private static void check(List<String> members, int validator, String raw) {
    JsonObject body;
    try {
      body = Requests.body(raw, members.toArray(String[]::new));
    } catch (ApiException e) {
      refusal(e, members, Set.of());
      return;
    }
    assertThat(members).containsAll(body.fieldNames());
    Set<String> keys = new HashSet<>(body.fieldNames());
    for (String m : members) {
      try {
        switch (validator) {
          case 0 -> assertThat(Requests.name(body, m)).hasSizeBetween(1, Requests.MAX_NAME);
          case 1 ->
              Requests.optionalString(body, m, 0, 200)
                  .ifPresent(
                      s -> assertThat(s.chars().noneMatch(Character::isISOControl)).isTrue());
          case 2 -> assertThat(Requests.key32(body, m)).hasSize(32);
          case 3 ->
              assertThat(Requests.uuid(Requests.string(body, m, 36, 36), m).toString())
                  .isEqualToIgnoringCase(body.getString(m));
          case 4 ->
              assertThat(Requests.oneOf(body, m, "member", "admin", "member", "viewer"))
                  .isIn("admin", "member", "viewer");
          default -> Requests.string(body, m, 1, 4096);
        }
      } catch (ApiException e) {
        refusal(e, members, keys);
      }
    }
  }

  private static void refusal(ApiException e, List<String> members, Set<String> keys) {
    assertThat(e.status()).isEqualTo(400);
    if (e.field() != null && !members.contains(e.field())) {
      assertThat(e.getMessage()).startsWith("unknown field '");
      assertThat(e.field().length()).isLessThanOrEqualTo(200);
    }
  }
}
