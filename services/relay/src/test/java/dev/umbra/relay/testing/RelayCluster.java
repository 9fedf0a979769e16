package dev.umbra.relay.testing;

import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.relay.RelayService;
import dev.umbra.relay.routing.MeshAuth;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Relay instances on ephemeral ports sharing the real Redis (one bus prefix per cluster), each with
 * its own bus connection and metrics registry, as separate processes would have. Blocking helpers:
 * call from the test thread, never from an event loop.
 */
public final class RelayCluster implements AutoCloseable {
  public record Instance(RelayService service, RedisBus bus, String deploymentId, boolean tls) {
    public URI url() {
      return URI.create(
          (tls ? "wss" : "ws") + "://127.0.0.1:" + service.actualPort() + RelayWire.PATH);
    }

    /** This instance's id in the mesh (its presence key, the target of proofs for it). */
    public String meshId() {
      return service.switchboard().instance();
    }

    /**
     * The upgrade headers of a link opened to this instance by {@code from}, with a fresh proof
     * keyed from {@code credential} (docs/relay.md, "Mesh link authentication").
     */
    public Map<String, String> linkHeaders(String credential, String from) {
      MeshAuth auth = new MeshAuth(InternalCredential.of(credential), from, Clock.systemUTC());
      return Map.of(MeshAuth.HEADER, auth.proof(meshId()), RelayWire.INSTANCE_HEADER, from);
    }

    /** This instance's mesh endpoint. */
    public URI meshUrl() {
      return URI.create(
          (tls ? "wss" : "ws") + "://127.0.0.1:" + service.actualPort() + RelayWire.MESH_PATH);
    }
  }

  /**
   * What a test class shares across its clusters: one Vert.x and the token issuer (the relays'
   * control plane), started before the class's {@code @BeforeAll} methods and closed after its last
   * test. Register it as {@code @RegisterExtension static final RelayCluster.Fixture relays = new
   * RelayCluster.Fixture();}.
   */
  public static final class Fixture implements BeforeAllCallback, AfterAllCallback {
    private Vertx vertx;
    private TestTokens tokens;

    @Override
    public void beforeAll(ExtensionContext context) {
      vertx = Vertx.vertx();
      tokens = await(TestTokens.start(vertx));
    }

    @Override
    public void afterAll(ExtensionContext context) {
      if (tokens != null) {
        tokens.close();
      }
      if (vertx != null) {
        await(vertx.close());
      }
      tokens = null;
      vertx = null;
    }

    public Vertx vertx() {
      return started(vertx);
    }

    public TestTokens tokens() {
      return started(tokens);
    }

    /** A cluster with {@code env} and no instance yet ({@link RelayCluster#start} adds one). */
    public RelayCluster cluster(Path home, Map<String, String> env) {
      return new RelayCluster(vertx(), tokens(), home, env);
    }

    /** A cluster of one instance started with {@code env} ({@link RelayCluster#instance}(0)). */
    public RelayCluster one(Path home, Map<String, String> env) {
      RelayCluster c = cluster(home, env);
      c.start();
      return c;
    }

    /**
     * A cluster of two instances started with {@code env} ({@link RelayCluster#instance}(0) and
     * (1)).
     */
    public RelayCluster two(Path home, Map<String, String> env) {
      RelayCluster c = one(home, env);
      c.start();
      return c;
    }

    private static <T> T started(T value) {
      if (value == null) {
        throw new IllegalStateException(
            "RelayCluster.Fixture is used outside its test class (register it as a static field)");
      }
      return value;
    }
  }

  private final Vertx vertx;
  private final TestTokens tokens;
  private final String prefix = TestRedis.randomPrefix();
  private final Path home;
  private final Map<String, String> env;
  private final List<Instance> instances = new ArrayList<>();

  public RelayCluster(Vertx vertx, TestTokens tokens, Path home, Map<String, String> extraEnv) {
    this.vertx = vertx;
    this.tokens = tokens;
    this.home = home;
    this.env = new HashMap<>(extraEnv);
    env.put("UMBRA_CONTROL_PLANE_URL", tokens.controlPlaneUrl().toString());
  }

  /** The {@code i}-th running instance, in start order. */
  public Instance instance(int i) {
    return instances.get(i);
  }

  /**
   * WebSocket client options for this cluster's endpoints: trusting the cluster's CA when it serves
   * TLS ({@code UMBRA_TLS_CA_FILE}), with no client certificate.
   */
  public WebSocketClientOptions clientOptions() {
    WebSocketClientOptions o =
        new WebSocketClientOptions()
            .setMaxFrameSize(16 * 1024 * 1024)
            .setMaxMessageSize(16 * 1024 * 1024);
    String ca = env.get("UMBRA_TLS_CA_FILE");
    if (ca != null) {
      o.setSsl(true)
          .setTrustOptions(new PemTrustOptions().addCertPath(ca))
          // a handshake on a busy 2-vCPU machine can take longer than the default 10 s
          .setSslHandshakeTimeout(60)
          .setSslHandshakeTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS);
    }
    return o;
  }

  /**
   * A daemon or client connected to {@code on} with {@code token} and {@link #clientOptions} (over
   * TLS: no client certificate).
   */
  public RawPeer peer(Instance on, String token) {
    return await(
        RawPeer.connect(
            vertx, on.url(), Map.of("authorization", "Bearer " + token), 0, clientOptions()));
  }

  public String busPrefix() {
    return prefix;
  }

  public Instance start() {
    ServiceConfig cfg = TestServices.config(ServiceName.RELAY, null, prefix, home, env);
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), prefix);
    RelayService svc =
        await(
            TestServices.deploy(
                vertx, cfg, bus, Metrics.newRegistry(), Clock.systemUTC(), RelayService::new));
    String id = svc.deploymentID();
    Instance i = new Instance(svc, bus, id, env.containsKey("UMBRA_TLS_CERT_FILE"));
    instances.add(i);
    return i;
  }

  /** Undeploys an instance (its connections close), as a killed relay process would. */
  public void kill(Instance i) {
    await(vertx.undeploy(i.deploymentId()).eventually(() -> i.bus().close()));
    instances.remove(i);
  }

  public List<Instance> instances() {
    return List.copyOf(instances);
  }

  public static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    for (Instance i : new ArrayList<>(instances)) {
      try {
        kill(i);
      } catch (RuntimeException e) {
        // already gone
      }
    }
  }
}
