package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.controlplane.machines.MachineRoutes;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.kit.auth.InvalidSessionException;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SessionVerifier;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.revocation.RevocationChannel;
import dev.umbra.proto.bus.Revocation;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class SessionTokenTest {
  Harness h;
  Harness.Owner o;
  Vertx vertx;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    h = new Harness(vertx, Map.of("UMBRA_CONTROL_PLANE_AUTH_MAX_FAILURES", "3"));
    o = h.bootstrap("dev");
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  String session(String audience) {
    Harness.Response r =
        h.call(
            "POST",
            "/v1/sessions",
            o.token(),
            new JsonObject().put("workspace_id", o.workspaceId()).put("audience", audience));
    assertThat(r.status()).isEqualTo(201);
    return r.body().getString("token");
  }

  SessionClaims verify(String token, String audience) throws Exception {
    SessionVerifier v =
        new SessionVerifier(vertx, SessionVerifier.jwksUrl(h.base), audience, h.clock);
    return v.verify(token).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void sessionTokensVerifyOfflineWithThePublishedKeySet() throws Exception {
    SessionClaims c = verify(session("relay"), "relay");
    assertThat(c.workspaceId()).isEqualTo(UUID.fromString(o.workspaceId()));
    assertThat(c.subject()).isEqualTo(o.accountId());
    assertThat(c.subjectKind()).isEqualTo(SubjectKind.MEMBER);
    assertThat(c.role()).isEqualTo(Role.OWNER);
    assertThat(c.expiresAt())
        .isEqualTo(
            h.clock
                .instant()
                .plus(ControlPlaneService.SESSION_TTL)
                .truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
  }

  @Test
  void aTokenForOneServiceIsRefusedByAnother() {
    String t = session("relay");
    assertThatThrownBy(() -> verify(t, "audit")).hasCauseInstanceOf(InvalidSessionException.class);
  }

  @Test
  void expiredTokensAreRefused() {
    String t = session("pairing");
    h.clock.advance(Duration.ofMinutes(11));
    assertThatThrownBy(() -> verify(t, "pairing")).hasMessageContaining("expired");
  }

  @Test
  void rotationKeepsLiveTokensValid() throws Exception {
    String before = session("relay");
    String oldKid = h.service.signingKeys().current().kid();
    h.service
        .signingKeys()
        .rotate()
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertThat(h.service.signingKeys().current().kid()).isNotEqualTo(oldKid);
    String after = session("relay");
    assertThat(verify(before, "relay").subject()).isEqualTo(o.accountId());
    assertThat(verify(after, "relay").subject()).isEqualTo(o.accountId());
    JsonObject jwks = h.call("GET", "/.well-known/jwks.json", null, null).body();
    assertThat(jwks.getJsonArray("keys")).hasSize(2);
    assertThat(jwks.encode()).doesNotContain("\"d\"");
    // once every token of the old key has expired, the old key is no longer published
    h.clock.advance(ControlPlaneService.SESSION_TTL.plusMinutes(6));
    assertThat(h.call("GET", "/.well-known/jwks.json", null, null).body().getJsonArray("keys"))
        .hasSize(1);
  }

  @Test
  void signingKeyIsAPrivateFileOfTheInstance() throws Exception {
    var dir = h.home.resolve("control-plane/signing");
    try (var files = java.nio.file.Files.list(dir)) {
      var keyFile = files.filter(p -> p.toString().endsWith(".key")).findFirst().orElseThrow();
      assertThat(
              java.nio.file.attribute.PosixFilePermissions.toString(
                  java.nio.file.Files.getPosixFilePermissions(keyFile)))
          .isEqualTo("rw-------");
    }
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                java.nio.file.Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
  }

  @Test
  void machinesGetSessionsBySigningWithTheirBindingKey() throws Exception {
    Ed25519KeyPair key = Ed25519KeyPair.generate();
    String machine =
        h.call(
                "POST",
                "/internal/v1/workspaces/" + o.workspaceId() + "/machines",
                null,
                new JsonObject()
                    .put("install_id", UUID.randomUUID().toString())
                    .put("x25519_public_key", "11".repeat(32))
                    .put("ed25519_public_key", key.publicKey().toHex())
                    .put("name", "box"),
                Map.of("X-Umbra-Internal", Harness.INTERNAL))
            .body()
            .getString("id");
    long ts = h.clock.millis();
    byte[] msg =
        MachineRoutes.machineSessionMessage(
            UUID.fromString(o.workspaceId()), UUID.fromString(machine), "relay", ts);
    JsonObject req =
        new JsonObject()
            .put("workspace_id", o.workspaceId())
            .put("machine_id", machine)
            .put("audience", "relay")
            .put("timestamp_ms", ts)
            .put("signature", HexFormat.of().formatHex(key.privateKey().sign(msg)));
    Harness.Response ok = h.call("POST", "/v1/machine-sessions", null, req);
    assertThat(ok.status()).isEqualTo(201);
    SessionClaims c = verify(ok.body().getString("token"), "relay");
    assertThat(c.subjectKind()).isEqualTo(SubjectKind.MACHINE);
    assertThat(c.subject()).isEqualTo(machine);
    assertThat(h.call("POST", "/v1/machine-sessions", null, req).status())
        .as("replayed")
        .isEqualTo(401);
    assertThat(
            h.call("POST", "/v1/machine-sessions", null, req.copy().put("audience", "audit"))
                .status())
        .isEqualTo(401);
    h.clock.advance(Duration.ofMillis(5));
    long later = h.clock.millis();
    byte[] msg2 =
        MachineRoutes.machineSessionMessage(
            UUID.fromString(o.workspaceId()), UUID.fromString(machine), "relay", later);
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-sessions",
                    null,
                    req.copy()
                        .put("timestamp_ms", later)
                        .put("signature", HexFormat.of().formatHex(key.privateKey().sign(msg2))))
                .status())
        .isEqualTo(201);
    h.clock.advance(Duration.ofMinutes(2));
    Harness.Response stale = h.call("POST", "/v1/machine-sessions", null, req);
    assertThat(stale.status()).isEqualTo(401);
    assertThat(stale.errorField()).isEqualTo("timestamp_ms");
  }

  @Test
  void revokingAMachinePublishesOnTheBusAtOnce() throws Exception {
    String machine = h.createMachine(o.workspaceId(), "box").body().getString("id");
    CompletableFuture<Revocation> got = new CompletableFuture<>();
    h.bus
        .subscribe(
            RevocationChannel.CHANNEL,
            m -> {
              try {
                got.complete(Revocation.parseFrom(m.body().getBytes()));
              } catch (Exception e) {
                got.completeExceptionally(e);
              }
            })
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertThat(
            h.call(
                    "DELETE",
                    "/v1/workspaces/" + o.workspaceId() + "/machines/" + machine,
                    o.token(),
                    null)
                .status())
        .isEqualTo(204);
    Revocation r = got.get(5, TimeUnit.SECONDS);
    assertThat(r.getKind()).isEqualTo(RevokedKind.REVOKED_KIND_MACHINE);
    assertThat(r.getSubjectId()).isEqualTo(machine);
    assertThat(r.getWorkspaceId()).isEqualTo(o.workspaceId());
    JsonObject after =
        h.call("GET", "/v1/workspaces/" + o.workspaceId() + "/machines/" + machine, o.token(), null)
            .body();
    assertThat(after.getString("status")).isEqualTo("revoked");
  }

  @Test
  void failedAuthenticationsAreRateLimited() {
    String valid = o.token();
    String sameLookupWrongSecret = valid.substring(0, 20) + "A".repeat(43);
    for (int i = 0; i < 3; i++) {
      assertThat(h.call("GET", "/v1/me", sameLookupWrongSecret, null).status()).isEqualTo(401);
    }
    Harness.Response limited = h.call("GET", "/v1/me", valid, null);
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.errorCode()).isEqualTo("rate_limited");
    h.clock.advance(Duration.ofMinutes(5).plusSeconds(1));
    assertThat(h.call("GET", "/v1/me", valid, null).status()).isEqualTo(200);
  }

  @Test
  void readScopedTokensCannotWrite() {
    String read =
        h.call(
                "POST",
                "/v1/tokens",
                o.token(),
                new JsonObject().put("name", "ro").put("scope", "read"))
            .body()
            .getString("token");
    assertThat(
            h.call("GET", "/v1/workspaces/" + o.workspaceId() + "/machines", read, null).status())
        .isEqualTo(200);
    assertThat(h.call("POST", "/v1/workspaces", read, new JsonObject().put("name", "x")).status())
        .isEqualTo(403);
    Harness.Response s =
        h.call(
            "POST",
            "/v1/sessions",
            read,
            new JsonObject().put("workspace_id", o.workspaceId()).put("audience", "relay"));
    assertThat(s.body().getString("role")).isEqualTo("viewer");
  }
}
