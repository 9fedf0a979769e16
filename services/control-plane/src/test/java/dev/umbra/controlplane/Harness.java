package dev.umbra.controlplane;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.proto.testing.MutableClock;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real control plane on an ephemeral port, its own database and bus prefix, and a blocking HTTP
 * client.
 */
final class Harness implements AutoCloseable {
  final Vertx vertx;
  final TestPostgres pg;
  final Bus bus;
  final MutableClock clock = new MutableClock(Instant.now());
  final ControlPlaneService service;
  final Path home;
  final String bootstrapToken;
  final URI base;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** Every response this harness receives is checked against the OpenAPI schemas of its route. */
  final SchemaCheck responses;

  /** The instance's meters. */
  final io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry = Metrics.newRegistry();

  record Response(int status, JsonObject body) {
    String errorCode() {
      return body.getJsonObject("error") == null
          ? null
          : body.getJsonObject("error").getString("code");
    }

    String errorField() {
      return body.getJsonObject("error") == null
          ? null
          : body.getJsonObject("error").getString("field");
    }
  }

  private final boolean ownsDatabase;
  final String prefix;

  Harness(Vertx vertx, Map<String, String> env) throws Exception {
    this(vertx, env, TestPostgres.createDatabase(), TestRedis.randomPrefix(), true);
  }

  /**
   * Another instance of the same deployment: the database and bus prefix of {@code first}, its own
   * home (signing key) and port.
   */
  Harness(Vertx vertx, Harness first) throws Exception {
    this(vertx, first, Map.of());
  }

  /** Another instance of {@code first}'s deployment, with {@code env}. */
  Harness(Vertx vertx, Harness first, Map<String, String> env) throws Exception {
    this(vertx, first, env, TestRedis.url());
  }

  /**
   * Another instance of {@code first}'s deployment whose bus reaches Redis at {@code redis} (a
   * {@code TcpProxy} in front of the test Redis, say), with {@code env}.
   */
  Harness(Vertx vertx, Harness first, Map<String, String> env, URI redis) throws Exception {
    this(vertx, env, first.pg, first.prefix, false, redis);
    // the deployment's instances read one time, as synchronized hosts do: a bus notice sealed on
    // one is within the other's window (SealedNotices); tests move each clock on from there
    clock.advance(java.time.Duration.between(clock.instant(), first.clock.instant()));
  }

  private Harness(
      Vertx vertx, Map<String, String> env, TestPostgres pg, String prefix, boolean ownsDatabase)
      throws Exception {
    this(vertx, env, pg, prefix, ownsDatabase, TestRedis.url());
  }

  private Harness(
      Vertx vertx,
      Map<String, String> env,
      TestPostgres pg,
      String prefix,
      boolean ownsDatabase,
      URI redis)
      throws Exception {
    this.vertx = vertx;
    this.pg = pg;
    this.prefix = prefix;
    this.ownsDatabase = ownsDatabase;
    this.bus = RedisBus.create(vertx, redis, prefix);
    this.home = Files.createTempDirectory("umbra-cp-test");
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("UMBRA_INTERNAL_TOKEN", "internal-test-credential-0123456789abcdef");
    ServiceConfig cfg = TestServices.config(ServiceName.CONTROL_PLANE, pg, prefix, home, all);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8);
    this.service =
        TestServices.deploy(vertx, cfg, bus, registry, clock, rt -> new ControlPlaneService(rt, ps))
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
    String printed = err.toString(StandardCharsets.UTF_8);
    String token = null;
    for (String line : printed.split("\n")) {
      if (line.startsWith("bootstrap token: ")) {
        token = line.substring("bootstrap token: ".length()).trim();
      }
    }
    this.bootstrapToken = token;
    this.base = URI.create("http://127.0.0.1:" + service.actualPort());
    this.responses = new SchemaCheck(service.routes());
  }

  static final String INTERNAL = "internal-test-credential-0123456789abcdef";

  Response call(String method, String path, String token, Object body) {
    return call(method, path, token, body, Map.of());
  }

  Response call(
      String method, String path, String token, Object body, Map<String, String> headers) {
    try {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(base.resolve(path))
              .timeout(
                  java.time.Duration.ofSeconds(
                      30)) // a handler that never answers fails the test, not CI
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(
                          body instanceof JsonObject j ? j.encode() : body.toString()));
      if (token != null) {
        b.header("Authorization", "Bearer " + token);
      }
      if (body != null) {
        b.header("content-type", "application/json");
      }
      headers.forEach(b::header);
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      responses.check(method, path, body, r.statusCode(), r.body());
      JsonObject json =
          r.body() == null || r.body().isBlank() || !r.body().trim().startsWith("{")
              ? new JsonObject()
              : new JsonObject(r.body());
      return new Response(r.statusCode(), json);
    } catch (AssertionError e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(method + " " + path + ": " + e, e);
    }
  }

  /** Bootstraps and returns the owner's API token and workspace id. */
  Owner bootstrap(String workspaceName) {
    Response r =
        call(
            "POST",
            "/v1/bootstrap",
            null,
            new JsonObject()
                .put("token", bootstrapToken)
                .put("account_name", "alice")
                .put("workspace_name", workspaceName));
    if (r.status() != 201) {
      throw new IllegalStateException("bootstrap failed: " + r);
    }
    return new Owner(
        r.body().getJsonObject("api_token").getString("token"),
        r.body().getJsonObject("workspace").getString("id"),
        r.body().getJsonObject("account").getString("id"));
  }

  record Owner(String token, String workspaceId, String accountId) {}

  /**
   * Invites a new account named {@code name} into {@code workspaceId} with {@code role} (as {@code
   * inviter}) and accepts the invitation; returns the new account's API token.
   */
  String join(String inviter, String workspaceId, String role, String name) {
    Response invited =
        call(
            "POST",
            "/v1/workspaces/" + workspaceId + "/invitations",
            inviter,
            new JsonObject().put("role", role));
    if (invited.status() != 201) {
      throw new IllegalStateException("invitation failed: " + invited);
    }
    Response joined =
        call(
            "POST",
            "/v1/invitations/accept",
            null,
            new JsonObject()
                .put("token", invited.body().getString("token"))
                .put("account_name", name));
    if (joined.status() != 201) {
      throw new IllegalStateException("accepting the invitation failed: " + joined);
    }
    return joined.body().getJsonObject("api_token").getString("token");
  }

  /**
   * Two tenants that share nothing: alice owns workspace A (bootstrapped), bob gets an account by
   * an invitation to alice's workspace B and owns his own workspace C.
   */
  Tenants twoTenants() {
    Owner o = bootstrap("A");
    String wsB =
        call("POST", "/v1/workspaces", o.token(), new JsonObject().put("name", "B"))
            .body()
            .getString("id");
    String bob = join(o.token(), wsB, "admin", "bob");
    String wsC =
        call("POST", "/v1/workspaces", bob, new JsonObject().put("name", "C"))
            .body()
            .getString("id");
    return new Tenants(o.token(), o.workspaceId(), bob, wsC);
  }

  record Tenants(String alice, String wsA, String bob, String wsC) {}

  /** A machine binding created as the pairing service would. */
  Response createMachine(String workspaceId, String name) {
    String hex = "11".repeat(32);
    return call(
        "POST",
        "/internal/v1/workspaces/" + workspaceId + "/machines",
        null,
        new JsonObject()
            .put("install_id", java.util.UUID.randomUUID().toString())
            .put("x25519_public_key", hex)
            .put("ed25519_public_key", "22".repeat(32))
            .put("name", name)
            .put("os", "linux"),
        Map.of("X-Umbra-Internal", INTERNAL));
  }

  @Override
  public void close() throws Exception {
    try {
      responses.assertNoMismatch();
    } finally {
      closeService();
    }
  }

  private boolean stopped;

  /** Stops this instance (as a deployment stops one of its instances); its database stays. */
  void stopService() throws Exception {
    if (!stopped) {
      stopped = true;
      vertx
          .undeploy(service.deploymentID())
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    }
  }

  private void closeService() throws Exception {
    stopService();
    bus.close();
    if (ownsDatabase) {
      pg.close();
    }
  }
}
