package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.crypto.secret.MeshProofs;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.auth.MeshProofKey;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.routing.MeshAuth;
import dev.umbra.relay.testing.RawPeer;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.RelayCluster.Instance;
import dev.umbra.relay.testing.TestTokens;
import dev.umbra.relay.wire.MeshRefusal;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mesh link authentication against a forged presence (docs/relay.md, "Mesh link authentication";
 * docs/security.md): whoever can write the mesh's Redis keys can point an instance at itself, and
 * must learn from the dial nothing that opens a link to a real instance, or any other route the
 * internal credential opens.
 */
class RelayMeshAuthTest {
  private static final String CREDENTIAL = "mesh-auth-internal-credential-" + UUID.randomUUID();
  private static final String EVIL = "01EVILPEER";
  @RegisterExtension static final RelayCluster.Fixture fixture = new RelayCluster.Fixture();
  private final Vertx vertx = fixture.vertx();
  private final TestTokens tokens = fixture.tokens();
  @TempDir static Path home;

  private RelayCluster cluster;
  private Instance a;
  private Instance b;
  private WebClient http;
  private final UUID ws = UUID.randomUUID();
  private final String machine = "m-" + UUID.randomUUID();

  @BeforeEach
  void startRelays() {
    cluster = fixture.two(home, Map.of("UMBRA_INTERNAL_TOKEN", CREDENTIAL));
    a = cluster.instance(0);
    b = cluster.instance(1);
    http = WebClient.create(vertx);
  }

  @AfterEach
  void stopRelays() {
    http.close();
    cluster.close();
  }

  /** A mesh upgrade attempt on {@code to} with these headers, answered before any upgrade. */
  private HttpResponse<Buffer> knock(Instance to, Map<String, String> headers) {
    var req = http.get(to.service().actualPort(), "127.0.0.1", RelayWire.MESH_PATH);
    headers.forEach(req::putHeader);
    return RelayCluster.await(req.send());
  }

  /** The reason of a refused proof: a 401 {@code unauthorized} whose message ends with it. */
  private static MeshRefusal refusal(HttpResponse<Buffer> r) {
    assertThat(r.statusCode()).isEqualTo(401);
    var error = r.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("unauthorized");
    String message = error.getString("message");
    assertThat(message).startsWith(MeshRefusal.MESSAGE);
    return MeshRefusal.valueOf(message.substring(MeshRefusal.MESSAGE.length()).toUpperCase());
  }

  private RelayFrame openFrame(long channel) {
    return RelayFrame.newBuilder()
        .setType(FrameType.FRAME_TYPE_OPEN)
        .setWorkspaceId(ws.toString())
        .setTargetId(machine)
        .setChannelId(channel)
        .setPayload(ByteString.copyFrom(new byte[] {1}))
        .build();
  }

  @Test
  void aFakePeerInThePresenceGetsNoCredentialAndNothingARealRelayAccepts() {
    Map<String, String> captured = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    AtomicReference<Boolean> dialled = new AtomicReference<>(false);
    HttpServer fake =
        RelayCluster.await(
            vertx
                .createHttpServer()
                .requestHandler(
                    req -> {
                      req.headers().forEach(h -> captured.put(h.getKey(), h.getValue()));
                      dialled.set(true);
                      req.response().setStatusCode(503).end();
                    })
                .listen(0, "127.0.0.1"));
    // the forged keys: an instance "01EVILPEER" at the fake's URL, holding the daemon of machine
    RelayCluster.await(
        a.bus()
            .putExpiring(
                BusNames.relayInstance(EVIL),
                "ws://127.0.0.1:" + fake.actualPort() + RelayWire.MESH_PATH,
                Duration.ofMinutes(1)));
    RelayCluster.await(
        a.bus()
            .putExpiring(
                BusNames.relayPresence(ws.toString(), machine), EVIL, Duration.ofMinutes(1)));
    try (RawPeer c = RawPeer.open(vertx, a.url(), tokens.member(ws, "acct-auth"))) {
      c.send(openFrame(1));
      Eventually.await("a dials the fake peer", Duration.ofSeconds(10), dialled::get);
    }
    RelayCluster.await(fake.close());

    // no credential, in any header, in any form
    assertThat(captured).doesNotContainKey(InternalCredential.HEADER);
    assertThat(captured.values()).noneMatch(v -> v.contains(CREDENTIAL));
    assertThat(captured.values())
        .noneMatch(
            v ->
                v.contains(
                    Base64.getUrlEncoder()
                        .withoutPadding()
                        .encodeToString(MeshProofs.key(CREDENTIAL))));
    String proof = captured.get(MeshAuth.HEADER);
    assertThat(proof).startsWith("v1." + EVIL + ".");
    assertThat(captured.get(RelayWire.INSTANCE_HEADER)).isEqualTo(a.meshId());

    // replayed as it came, to either real instance: made for another target
    Map<String, String> replay =
        Map.of(MeshAuth.HEADER, proof, RelayWire.INSTANCE_HEADER, a.meshId());
    for (Instance real : new Instance[] {a, b}) {
      HttpResponse<Buffer> r = knock(real, replay);
      assertThat(refusal(r)).isEqualTo(MeshRefusal.WRONG_TARGET);
      assertThat(real.service().metrics().meshRefusals(MeshRefusal.WRONG_TARGET)).isEqualTo(1);
    }
    // re-addressed to b: the MAC no longer holds
    HttpResponse<Buffer> readdressed =
        knock(
            b,
            Map.of(
                MeshAuth.HEADER,
                proof.replace(EVIL, b.meshId()),
                RelayWire.INSTANCE_HEADER,
                a.meshId()));
    assertThat(refusal(readdressed)).isEqualTo(MeshRefusal.BAD_MAC);
    // nor is the proof the credential anywhere the credential is taken (the mesh's old form)
    HttpResponse<Buffer> asCredential =
        knock(b, Map.of(InternalCredential.HEADER, proof, RelayWire.INSTANCE_HEADER, a.meshId()));
    assertThat(refusal(asCredential)).isEqualTo(MeshRefusal.MISSING);
    assertThat(a.service().switchboard().meshLinks()).isZero();
    assertThat(b.service().switchboard().meshLinks()).isZero();
  }

  @Test
  void refusedProofsGetTheirReasonBeforeTheUpgradeIsLookedAt() {
    String from = "01PROOFPEER";
    RelayCluster.await(
        a.bus()
            .putExpiring(
                BusNames.relayInstance(from), "ws://127.0.0.1:1/x", Duration.ofMinutes(1)));
    long now = System.currentTimeMillis() / 1000;
    MeshProofKey key = MeshProofKey.of(InternalCredential.of(CREDENTIAL));
    byte[] nonce = MeshProofKey.nonce();
    String stale =
        MeshAuth.encode(a.meshId(), now - 120, nonce, key.mac(from, a.meshId(), now - 120, nonce));
    // plain GETs, not upgrades: the proof is refused first, with its reason
    assertThat(refusal(knock(a, Map.of(MeshAuth.HEADER, stale, RelayWire.INSTANCE_HEADER, from))))
        .isEqualTo(MeshRefusal.STALE);
    assertThat(refusal(knock(a, Map.of(RelayWire.INSTANCE_HEADER, from))))
        .isEqualTo(MeshRefusal.MISSING);
    // the form of relays before proofs, the credential itself, is not taken any more
    assertThat(
            refusal(
                knock(
                    a,
                    Map.of(
                        InternalCredential.HEADER, CREDENTIAL, RelayWire.INSTANCE_HEADER, from))))
        .isEqualTo(MeshRefusal.MISSING);
    assertThat(refusal(knock(a, Map.of(MeshAuth.HEADER, "v1." + "A".repeat(300)))))
        .isEqualTo(MeshRefusal.MALFORMED);
    // a good proof, used once by a real link, is refused the second time
    Map<String, String> good = a.linkHeaders(CREDENTIAL, from);
    RawPeer linked = RelayCluster.await(RawPeer.connect(vertx, a.meshUrl(), good, 0));
    assertThat(refusal(knock(a, good))).isEqualTo(MeshRefusal.REPLAYED);
    assertThat(a.service().metrics().meshRefusals(MeshRefusal.REPLAYED)).isEqualTo(1);
    linked.close();
  }

  @Test
  void aNormalMeshStillLinksWithProofs() {
    RawPeer d =
        RelayCluster.await(
            RawPeer.connect(
                vertx,
                b.url(),
                Map.of("authorization", "Bearer " + tokens.machine(ws, machine)),
                0));
    d.send(
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_REGISTER)
            .setWorkspaceId(ws.toString())
            .setTargetId(machine)
            .build());
    assertThat(d.next().getType()).isEqualTo(FrameType.FRAME_TYPE_REGISTERED);
    try (RawPeer c = RawPeer.open(vertx, a.url(), tokens.member(ws, "acct-auth"))) {
      c.send(openFrame(3));
      assertThat(d.next(FrameType.FRAME_TYPE_OPEN).getChannelId()).isEqualTo(3);
      Eventually.await(
          "linked both ways",
          Duration.ofSeconds(10),
          () -> b.service().switchboard().meshLinks() == 1);
      assertThat(a.service().metrics().meshFramesOut()).isGreaterThanOrEqualTo(1);
      for (MeshRefusal r : MeshRefusal.values()) {
        assertThat(b.service().metrics().meshRefusals(r)).as(r.tag()).isZero();
      }
    }
    d.close();
  }
}
