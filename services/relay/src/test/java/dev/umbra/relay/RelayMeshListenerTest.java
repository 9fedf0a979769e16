package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestTls;
import dev.umbra.kit.tls.TlsContexts;
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
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
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
 * The mesh on a listener of its own ({@code UMBRA_RELAY_MESH_PORT}, docs/relay.md, "Mesh"): two
 * instances serving TLS 1.3 with a client CA, the mesh port 0. The instances advertise the mesh
 * listener's bound port in their presence and link there; that listener asks for a client
 * certificate and refuses a link without one, while the public listener asks nobody (browsers) and
 * no longer serves the mesh path.
 */
class RelayMeshListenerTest {
  private static final String CREDENTIAL = "mesh-listener-credential-" + UUID.randomUUID();
  @RegisterExtension static final RelayCluster.Fixture fixture = new RelayCluster.Fixture();
  private final Vertx vertx = fixture.vertx();
  private final TestTokens tokens = fixture.tokens();
  @TempDir static Path home;

  private TestTls tls;
  private RelayCluster cluster;
  private Instance a;
  private Instance b;
  private final UUID ws = UUID.randomUUID();

  @BeforeEach
  void startRelays() {
    tls = TestTls.issue(home, "mesh-listener-" + UUID.randomUUID());
    Map<String, String> env = new HashMap<>(tls.serviceEnv());
    env.put("UMBRA_INTERNAL_TOKEN", CREDENTIAL);
    env.put("UMBRA_RELAY_MESH_PORT", "0");
    cluster = fixture.two(home, env);
    a = cluster.instance(0);
    b = cluster.instance(1);
  }

  @AfterEach
  void stopRelays() {
    cluster.close();
  }

  private RelayFrame frame(FrameType t, String machine, long channel, byte[] payload) {
    return TestFrames.frame(t, ws, machine, channel, payload);
  }

  private RawPeer peer(Instance on, String token) {
    return cluster.peer(on, token);
  }

  /** A daemon registered on {@code on} (which so announces its mesh URL). */
  private RawPeer daemonOn(Instance on, String machine) {
    RawPeer daemon = peer(on, tokens.machine(ws, machine));
    daemon.send(frame(FrameType.FRAME_TYPE_REGISTER, machine, 0, null));
    assertThat(daemon.next().getType()).isEqualTo(FrameType.FRAME_TYPE_REGISTERED);
    return daemon;
  }

  /** The mesh URL {@code i} advertises in Redis (its presence key). */
  private static URI advertised(Instance i) {
    String key = BusNames.relayInstance(i.meshId());
    Eventually.await(
        "the presence of " + i.meshId(),
        Duration.ofSeconds(10),
        () -> RelayCluster.await(i.bus().get(key)) != null);
    return URI.create(RelayCluster.await(i.bus().get(key)));
  }

  private X509Certificate ca() throws Exception {
    try (InputStream in = Files.newInputStream(tls.caFile())) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  /** A live instance id in the cluster's presence that no relay runs (a test's own link). */
  private String fakePeer() {
    String peer = "01MESHPORT" + Long.toString(System.nanoTime(), 36).toUpperCase();
    RelayCluster.await(
        a.bus()
            .putExpiring(
                BusNames.relayInstance(peer),
                "wss://127.0.0.1:1" + RelayWire.MESH_PATH,
                Duration.ofMinutes(1)));
    return peer;
  }

  private WebSocketClientOptions withCertificate() {
    return new WebSocketClientOptions(cluster.clientOptions())
        .setKeyCertOptions(tls.clientCertificate());
  }

  @Test
  void framesForAnotherInstanceCrossALinkToItsMeshListener() {
    String machine = "m-" + UUID.randomUUID();
    RawPeer daemon = daemonOn(b, machine);
    RawPeer client = peer(a, tokens.member(ws, "acct-mesh-port"));
    long channel = 0x5eed;
    client.send(frame(FrameType.FRAME_TYPE_OPEN, machine, channel, new byte[] {1, 2, 3}));
    assertThat(daemon.next().getType()).isEqualTo(FrameType.FRAME_TYPE_OPEN);
    daemon.send(frame(FrameType.FRAME_TYPE_ACCEPT, machine, channel, new byte[] {4}));
    assertThat(client.next().getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    client.send(frame(FrameType.FRAME_TYPE_DATA, machine, channel, new byte[] {7, 7}));
    RelayFrame data = daemon.next();
    assertThat(data.getType()).isEqualTo(FrameType.FRAME_TYPE_DATA);
    assertThat(data.getPayload().toByteArray()).containsExactly(7, 7);

    // b advertises its mesh listener (port 0: the port it bound), not its public one
    URI bMesh = advertised(b);
    assertThat(bMesh.getScheme()).isEqualTo("wss");
    assertThat(bMesh.getPath()).isEqualTo(RelayWire.MESH_PATH);
    assertThat(bMesh.getPort()).isPositive().isNotEqualTo(b.service().actualPort());
    assertThat(bMesh.getPort()).isEqualTo(b.service().actualServiceToServicePort());
    // and the frames went over a link (both ends of it), not the bus
    assertThat(a.service().switchboard().meshLinks()).isEqualTo(1);
    Eventually.await(
        "the link on b", Duration.ofSeconds(10), () -> b.service().switchboard().meshLinks() == 1);
    assertThat(a.service().metrics().meshFramesOut()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void thePublicListenerAsksNoClientForACertificateTheMeshListenerRefusesOneWithout()
      throws Exception {
    RawPeer daemon = daemonOn(a, "m-" + UUID.randomUUID()); // over TLS without a certificate
    URI aMesh = advertised(a);
    X509Certificate ca = ca();

    assertThat(TlsContexts.handshakeRequestsCertificate(ca, a.service().actualPort()))
        .as("the public listener's handshake requests a client certificate")
        .isFalse();
    assertThat(TlsContexts.handshakeRequestsCertificate(ca, aMesh.getPort()))
        .as("the mesh listener's handshake requests a client certificate")
        .isTrue();

    // a valid proof from a live instance without a client certificate: refused at the mesh door
    Map<String, String> headers = a.linkHeaders(CREDENTIAL, fakePeer());
    Throwable none = link(aMesh, headers, cluster.clientOptions());
    assertThat(none).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) none).getStatus()).isEqualTo(401);
    assertThat(a.service().switchboard().meshLinks()).isZero();

    // the mesh listener serves nothing but the mesh: no relay endpoint for clients there
    Throwable clientThere =
        link(
            URI.create("wss://127.0.0.1:" + aMesh.getPort() + RelayWire.PATH),
            Map.of("authorization", "Bearer " + tokens.member(ws, "acct-x")),
            withCertificate());
    assertThat(clientThere).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) clientThere).getStatus()).isEqualTo(404);

    // the same link with the CA's certificate: accepted
    RawPeer linked =
        RelayCluster.await(
            RawPeer.connect(
                vertx, aMesh, a.linkHeaders(CREDENTIAL, fakePeer()), 0, withCertificate()));
    Eventually.await(
        "the link on a", Duration.ofSeconds(10), () -> a.service().switchboard().meshLinks() == 1);
    linked.close();
    daemon.close();
  }

  @Test
  void thePublicListenerRefusesTheMeshPath() {
    URI publicMesh =
        URI.create("wss://127.0.0.1:" + a.service().actualPort() + RelayWire.MESH_PATH);
    // everything a link needs (a proof, a live instance, the CA's certificate), at the wrong door
    Throwable refused = link(publicMesh, a.linkHeaders(CREDENTIAL, fakePeer()), withCertificate());
    assertThat(refused).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) refused).getStatus()).isEqualTo(404);
    assertThat(a.service().switchboard().meshLinks()).isZero();
  }

  @Test
  void theMeshPortIsAPortOtherThanTheRelays() {
    assertThat(RelaySettings.from(new Env(Map.of())).meshPort()).isEmpty();
    assertThat(
            RelaySettings.from(new Env(Map.of("UMBRA_RELAY_MESH_PORT", "9091")))
                .meshPort()
                .getAsInt())
        .isEqualTo(9091);
    assertThatThrownBy(
            () ->
                RelaySettings.from(
                    new Env(Map.of("UMBRA_RELAY_MESH_PORT", "9091", "UMBRA_RELAY_PORT", "9091"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("UMBRA_RELAY_MESH_PORT");
    assertThatThrownBy(() -> RelaySettings.from(new Env(Map.of("UMBRA_RELAY_MESH_PORT", "8081"))))
        .isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> RelaySettings.from(new Env(Map.of("UMBRA_RELAY_MESH_PORT", "70000"))))
        .isInstanceOf(ConfigException.class);
  }

  /** The failure of an upgrade to {@code url} (null if it succeeded). */
  private Throwable link(URI url, Map<String, String> headers, WebSocketClientOptions options) {
    return RawPeer.refusal(vertx, url, headers, options);
  }
}
