package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestTls;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.testing.RawPeer;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.RelayCluster.Instance;
import dev.umbra.relay.testing.TestFrames;
import dev.umbra.relay.testing.TestTokens;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClientOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay mesh over mutual TLS (docs/relay.md, "Mesh"): instances serving TLS 1.3 with
 * certificates from the deployment's CA and requiring client certificates from it
 * (UMBRA_TLS_CLIENT_CA_FILE) link to each other over {@code wss://}, each presenting its own
 * certificate; a peer with the internal credential but no certificate from that CA gets no link.
 */
class RelayMeshTlsTest {
  private static final String CREDENTIAL = "mesh-tls-internal-credential-" + UUID.randomUUID();
  @RegisterExtension static final RelayCluster.Fixture fixture = new RelayCluster.Fixture();
  private final Vertx vertx = fixture.vertx();
  private final TestTokens tokens = fixture.tokens();
  @TempDir static Path home;

  private TestTls tls;
  private RelayCluster cluster;
  private Instance a;
  private Instance b;
  private final UUID ws = UUID.randomUUID();
  private final String machine = "m-" + UUID.randomUUID();

  @BeforeEach
  void startRelays() {
    tls = TestTls.issue(home, "mesh-" + UUID.randomUUID());
    Map<String, String> env = new HashMap<>(tls.serviceEnv());
    env.put("UMBRA_INTERNAL_TOKEN", CREDENTIAL);
    cluster = fixture.two(home, env);
    a = cluster.instance(0);
    b = cluster.instance(1);
  }

  @AfterEach
  void stopRelays() {
    cluster.close();
  }

  private RelayFrame frame(FrameType t, long channel, byte[] payload) {
    return TestFrames.frame(t, ws, machine, channel, payload);
  }

  private RawPeer peer(Instance on, String token) {
    return cluster.peer(on, token);
  }

  @Test
  void framesForAnotherInstanceCrossAMutualTlsLink() {
    RawPeer daemon = peer(b, tokens.machine(ws, machine));
    daemon.send(frame(FrameType.FRAME_TYPE_REGISTER, 0, null));
    assertThat(daemon.next().getType()).isEqualTo(FrameType.FRAME_TYPE_REGISTERED);
    RawPeer client = peer(a, tokens.member(ws, "acct-tls"));
    long channel = 0x5eed;
    client.send(frame(FrameType.FRAME_TYPE_OPEN, channel, new byte[] {1, 2, 3}));
    assertThat(daemon.next().getType()).isEqualTo(FrameType.FRAME_TYPE_OPEN);
    daemon.send(frame(FrameType.FRAME_TYPE_ACCEPT, channel, new byte[] {4}));
    assertThat(client.next().getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    client.send(frame(FrameType.FRAME_TYPE_DATA, channel, new byte[] {7, 7}));
    RelayFrame data = daemon.next();
    assertThat(data.getType()).isEqualTo(FrameType.FRAME_TYPE_DATA);
    assertThat(data.getPayload().toByteArray()).containsExactly(7, 7);
    // over a link, both ends of it (the link is used both ways), to the wss:// URL in the presence
    assertThat(a.service().switchboard().meshLinks()).isEqualTo(1);
    Eventually.await(
        "the link on b", Duration.ofSeconds(10), () -> b.service().switchboard().meshLinks() == 1);
    String bUrl =
        RelayCluster.await(
            a.bus().get(BusNames.relayInstance(b.service().switchboard().instance())));
    assertThat(bUrl).isEqualTo(b.meshUrl().toString()).startsWith("wss://");
    assertThat(a.service().metrics().meshFramesOut()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void aPeerWithTheCredentialButNoCertificateFromTheCaGetsNoLink() {
    String peer = "01TLSPEER" + Long.toString(System.nanoTime(), 36).toUpperCase();
    RelayCluster.await(
        a.bus()
            .putExpiring(
                BusNames.relayInstance(peer),
                "wss://127.0.0.1:1" + RelayWire.MESH_PATH,
                Duration.ofMinutes(1)));
    Map<String, String> headers = a.linkHeaders(CREDENTIAL, peer);
    WebSocketClientOptions trusting = cluster.clientOptions();

    // TLS without a client certificate: a valid proof alone is refused (401)
    Throwable none = link(headers, trusting);
    assertThat(none).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) none).getStatus()).isEqualTo(401);

    // a certificate another CA signed: refused (by the handshake, or at the door)
    TestTls stranger = TestTls.issue(home, "stranger-" + UUID.randomUUID());
    Throwable foreign =
        link(
            headers,
            new WebSocketClientOptions(trusting).setKeyCertOptions(stranger.clientCertificate()));
    assertThat(foreign).isNotNull();
    if (foreign instanceof UpgradeRejectedException rejected) {
      assertThat(rejected.getStatus()).isEqualTo(401);
    } else {
      assertThat(foreign)
          .isInstanceOfAny(javax.net.ssl.SSLException.class, java.io.IOException.class);
    }
    assertThat(a.service().switchboard().meshLinks()).isZero();

    // the same peer with a certificate from the deployment's CA: linked
    RawPeer linked =
        RelayCluster.await(
            RawPeer.connect(
                vertx,
                a.meshUrl(),
                headers,
                0,
                new WebSocketClientOptions(trusting).setKeyCertOptions(tls.clientCertificate())));
    Eventually.await(
        "the link on a", Duration.ofSeconds(10), () -> a.service().switchboard().meshLinks() == 1);
    linked.close();
  }

  /** The failure of a mesh upgrade with these headers and client options (null if it succeeded). */
  private Throwable link(Map<String, String> headers, WebSocketClientOptions options) {
    return RawPeer.refusal(vertx, a.meshUrl(), headers, options);
  }
}
