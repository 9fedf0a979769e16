package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SessionVerifier;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.kit.revocation.RevocationChannel;
import dev.umbra.proto.bus.Revocation;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the control plane publishes on revocation (docs/security.md, "Revocation"): every kind with
 * its workspace and what receivers match on, only after the transaction committed, on the channel
 * and in the durable log; and what it writes into session tokens for them to match.
 */
@ExtendWith(VertxExtension.class)
class RevocationPublishingTest {
  Harness h;
  Harness.Owner o;
  Vertx vertx;
  final LinkedBlockingQueue<Revocation> heard = new LinkedBlockingQueue<>();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    h = new Harness(vertx, Map.of());
    o = h.bootstrap("dev");
    h.bus
        .subscribe(
            RevocationChannel.CHANNEL,
            m -> {
              try {
                heard.add(Revocation.parseFrom(m.body().getBytes()));
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            })
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  Revocation next() throws InterruptedException {
    Revocation r = heard.poll(5, TimeUnit.SECONDS);
    assertThat(r).as("a revocation was published").isNotNull();
    return r;
  }

  SessionClaims claims(String apiToken, JsonObject body, String audience) throws Exception {
    Harness.Response r =
        h.call("POST", "/v1/sessions", apiToken, body.copy().put("audience", audience));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(201);
    return new SessionVerifier(vertx, SessionVerifier.jwksUrl(h.base), audience, h.clock)
        .verify(r.body().getString("token"))
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void revokingAnApiTokenPublishesItsIdForEveryWorkspaceOfTheAccountAndSessionsNameIt()
      throws Exception {
    String second =
        h.call("POST", "/v1/workspaces", o.token(), new JsonObject().put("name", "second"))
            .body()
            .getString("id");
    JsonObject t =
        h.call("POST", "/v1/tokens", o.token(), new JsonObject().put("name", "laptop")).body();
    SessionClaims c =
        claims(
            t.getString("token"), new JsonObject().put("workspace_id", o.workspaceId()), "relay");
    assertThat(c.apiTokenId()).contains(t.getString("id"));
    assertThat(c.deviceId()).isEmpty();
    assertThat(h.call("DELETE", "/v1/tokens/" + t.getString("id"), o.token(), null).status())
        .isEqualTo(204);
    List<Revocation> got = List.of(next(), next());
    assertThat(got)
        .extracting(Revocation::getWorkspaceId)
        .containsExactlyInAnyOrder(o.workspaceId(), second);
    assertThat(got)
        .allMatch(
            r ->
                r.getKind() == RevokedKind.REVOKED_KIND_TOKEN
                    && r.getSubjectId().equals(t.getString("id"))
                    && r.getAccountId().equals(o.accountId())
                    && r.getTimeUnixMs() >= c.issuedAt().toEpochMilli());
    // the durable log has them too, for services that start later
    List<StreamEntry> log =
        h.bus
            .range(RevocationChannel.LOG, "0-0", 10)
            .toCompletionStage()
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
    assertThat(log).hasSize(2);
  }

  @Test
  void removingAMemberPublishesTheAccountTheirSessionsName() throws Exception {
    String invite =
        h.call(
                "POST",
                "/v1/workspaces/" + o.workspaceId() + "/invitations",
                o.token(),
                new JsonObject().put("role", "member"))
            .body()
            .getString("token");
    JsonObject joined =
        h.call("POST", "/v1/invitations/accept", null, new JsonObject().put("token", invite))
            .body();
    SessionClaims c =
        claims(
            joined.getJsonObject("api_token").getString("token"),
            new JsonObject().put("workspace_id", o.workspaceId()),
            "relay");
    assertThat(
            h.call(
                    "DELETE",
                    "/v1/workspaces/"
                        + o.workspaceId()
                        + "/members/"
                        + joined.getString("member_id"),
                    o.token(),
                    null)
                .status())
        .isEqualTo(204);
    Revocation r = next();
    assertThat(r.getKind()).isEqualTo(RevokedKind.REVOKED_KIND_MEMBER);
    assertThat(r.getWorkspaceId()).isEqualTo(o.workspaceId());
    assertThat(r.getAccountId()).isEqualTo(joined.getString("account_id")).isEqualTo(c.subject());
    assertThat(r.getSubjectId()).isEqualTo(joined.getString("member_id"));
  }

  @Test
  void aRevocationThatDoesNotCommitIsNeverPublished() throws Exception {
    // the only owner cannot be removed: the transaction rolls back, nothing may be published
    String me =
        h
            .call("GET", "/v1/workspaces/" + o.workspaceId() + "/members", o.token(), null)
            .body()
            .getJsonArray("items")
            .stream()
            .map(JsonObject.class::cast)
            .filter(m -> m.getString("account_id").equals(o.accountId()))
            .findFirst()
            .orElseThrow()
            .getString("id");
    assertThat(
            h.call(
                    "DELETE",
                    "/v1/workspaces/" + o.workspaceId() + "/members/" + me,
                    o.token(),
                    null)
                .status())
        .isEqualTo(409);
    assertThat(h.call("DELETE", "/v1/tokens/" + UUID.randomUUID(), o.token(), null).status())
        .isEqualTo(404);
    assertThat(
            h.call(
                    "DELETE",
                    "/v1/workspaces/" + o.workspaceId() + "/machines/" + UUID.randomUUID(),
                    o.token(),
                    null)
                .status())
        .isEqualTo(404);
    // a revocation that commits afterwards is the first thing heard
    String machine = h.createMachine(o.workspaceId(), "box").body().getString("id");
    assertThat(
            h.call(
                    "DELETE",
                    "/v1/workspaces/" + o.workspaceId() + "/machines/" + machine,
                    o.token(),
                    null)
                .status())
        .isEqualTo(204);
    Revocation r = next();
    assertThat(r.getKind()).isEqualTo(RevokedKind.REVOKED_KIND_MACHINE);
    assertThat(r.getSubjectId()).isEqualTo(machine);
  }

  @Test
  void aSessionBoundToATrustedDeviceOfTheCallerNamesItAndItsCredentialVersion() throws Exception {
    UUID mine = device(UUID.fromString(o.accountId()), "trusted", 3);
    UUID revoked = device(UUID.fromString(o.accountId()), "revoked", 1);
    String invite =
        h.call(
                "POST",
                "/v1/workspaces/" + o.workspaceId() + "/invitations",
                o.token(),
                new JsonObject().put("role", "member"))
            .body()
            .getString("token");
    JsonObject other =
        h.call("POST", "/v1/invitations/accept", null, new JsonObject().put("token", invite))
            .body();
    UUID someoneElses = device(UUID.fromString(other.getString("account_id")), "trusted", 3);
    SessionClaims c =
        claims(
            o.token(),
            new JsonObject().put("workspace_id", o.workspaceId()).put("device_id", mine.toString()),
            "audit");
    assertThat(c.deviceId()).contains(mine.toString());
    assertThat(c.keysetVersion()).isEqualTo(3);
    for (UUID refused : List.of(revoked, someoneElses, UUID.randomUUID())) {
      Harness.Response r =
          h.call(
              "POST",
              "/v1/sessions",
              o.token(),
              new JsonObject()
                  .put("workspace_id", o.workspaceId())
                  .put("audience", "audit")
                  .put("device_id", refused.toString()));
      assertThat(r.status()).as(refused.toString()).isEqualTo(403);
    }
  }

  /** A device row as the trust flow leaves it (the flow itself is DeviceTrustApiTest's). */
  UUID device(UUID account, String status, int keysetVersion) throws Exception {
    UUID id = UUID.randomUUID();
    byte[] ed = new byte[32];
    byte[] p256 = new byte[65];
    new java.security.SecureRandom().nextBytes(ed);
    new java.security.SecureRandom().nextBytes(p256);
    try (Connection c = h.pg.ownerConnection();
        PreparedStatement st =
            c.prepareStatement(
                "INSERT INTO control_plane.devices (workspace_id, id, account_id, ed25519_public_key, "
                    + "p256_public_key, name, kind, status, request_payload, request_signature, keyset_version, created_at) "
                    + "VALUES (?, ?, ?, ?, ?, 'test', 'cli', ?, '{}', ?, ?, now())")) {
      st.setObject(1, UUID.fromString(o.workspaceId()));
      st.setObject(2, id);
      st.setObject(3, account);
      st.setBytes(4, ed);
      st.setBytes(5, p256);
      st.setString(6, status);
      st.setBytes(7, new byte[64]);
      st.setInt(8, keysetVersion);
      st.executeUpdate();
    }
    return id;
  }
}
