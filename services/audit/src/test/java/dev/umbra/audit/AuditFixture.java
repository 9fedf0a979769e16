package dev.umbra.audit;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.audit.AuditEventBuilder;
import dev.umbra.kit.auth.SessionTokens;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A running audit service on a fresh database and Redis prefix, an emitter as another service would
 * have it, and session tokens signed with a test key the service trusts.
 */
final class AuditFixture implements AutoCloseable {
  static final String ADMIN_TOKEN = "admin-token-for-tests-0123456789";

  final Vertx vertx;
  final TestPostgres pg;
  final String prefix = TestRedis.randomPrefix();
  final RedisBus bus;
  final PrometheusMeterRegistry registry = Metrics.newRegistry();
  final AuditEmitter emitter;
  final KeyPair signing;
  final ServiceConfig config;
  AuditService service;
  WebClient http;

  AuditFixture(Vertx vertx, TestPostgres pg, Map<String, String> extraEnv) throws Exception {
    this.vertx = vertx;
    this.pg = pg;
    this.bus = RedisBus.create(vertx, TestRedis.url(), prefix);
    this.emitter = new AuditEmitter(bus, "control-plane", Clock.systemUTC(), registry);
    this.signing = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Map<String, String> env =
        new HashMap<>(
            Map.of("UMBRA_ADMIN_TOKEN", ADMIN_TOKEN, "UMBRA_AUDIT_CLAIM_IDLE_MS", "1000"));
    env.putAll(extraEnv);
    Path home = Files.createTempDirectory("umbra-audit-test");
    this.config = TestServices.config(ServiceName.AUDIT, pg, prefix, home, env);
  }

  AuditFixture start() {
    startFetchingKeys();
    service.sessionVerifier().useKeys(Map.of("test-key", signing.getPublic()));
    return this;
  }

  /**
   * Starts the service without preloading the test key: its verifier fetches the key set from
   * {@code UMBRA_CONTROL_PLANE_URL} (see {@link #jwks}) on the first token, as after a real start.
   */
  AuditFixture startFetchingKeys() {
    service =
        await(
            TestServices.deploy(
                vertx, config, bus, registry, Clock.systemUTC(), AuditService::new));
    http =
        WebClient.create(
            vertx,
            new WebClientOptions()
                .setDefaultHost("127.0.0.1")
                .setDefaultPort(service.actualPort()));
    return this;
  }

  /** The JWKS document of the test signing key, as the control plane publishes it. */
  String jwks() {
    byte[] spki = signing.getPublic().getEncoded();
    byte[] raw = java.util.Arrays.copyOfRange(spki, spki.length - 32, spki.length);
    return new JsonObject()
        .put(
            "keys",
            new io.vertx.core.json.JsonArray()
                .add(
                    new JsonObject()
                        .put("kty", "OKP")
                        .put("crv", "Ed25519")
                        .put("kid", "test-key")
                        .put("x", Base64.getUrlEncoder().withoutPadding().encodeToString(raw))))
        .encode();
  }

  AuditEventBuilder event(AuditAction action, UUID workspace) {
    return emitter
        .event(action)
        .workspace(workspace)
        .actor(AuditActor.member("acct-1"))
        .target("machine", "m-1");
  }

  /** A session token for the audit service, signed like the control plane signs them. */
  String token(UUID workspace, String role, String subjectKind) {
    long now = System.currentTimeMillis() / 1000;
    JsonObject header =
        new JsonObject().put("alg", "EdDSA").put("kid", "test-key").put("typ", "JWT");
    JsonObject claims =
        new JsonObject()
            .put("iss", SessionTokens.ISSUER)
            .put("aud", "audit")
            .put("sub", "acct-" + role)
            .put("iat", now)
            .put("exp", now + 300)
            .put("jti", UUID.randomUUID().toString())
            .put(SessionTokens.CLAIM_WORKSPACE, workspace.toString())
            .put(SessionTokens.CLAIM_ROLE, role)
            .put(SessionTokens.CLAIM_SUBJECT_KIND, subjectKind);
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String input =
        b64.encodeToString(header.encode().getBytes(StandardCharsets.UTF_8))
            + "."
            + b64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(signing.getPrivate());
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + b64.encodeToString(s.sign());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  String adminOf(UUID workspace) {
    return token(workspace, "admin", "member");
  }

  long count(String sql) {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  void sql(String sql) throws Exception {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  long stored(UUID workspace) {
    return count("SELECT count(*) FROM audit.events WHERE workspace_id = '" + workspace + "'");
  }

  static void eventually(BooleanSupplier condition, long timeoutMs) {
    Eventually.await("condition", Duration.ofMillis(timeoutMs), condition::getAsBoolean);
  }

  static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (service != null) {
      await(vertx.undeploy(service.deploymentID()).recover(e -> Future.succeededFuture()));
    }
    await(bus.close());
  }
}
