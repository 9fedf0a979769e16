package dev.umbra.client.tty;

import static dev.umbra.client.tty.TtyEngineFailoverTest.get;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.auth.WebTtyTestTokens;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.webtty.WebTtyService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The engines of the WebTTY failover tests (docs/webtty.md "Engine failover"): the control plane's
 * key set for their token checks, an engine in its own JVM (to be killed with SIGKILL) or in this
 * one, all on the same PostgreSQL and Redis, and a member's client options for one engine URL.
 */
final class FailoverEngines {
  private FailoverEngines() {}

  /**
   * The credential every engine of a test shares, as a deployment's instances share {@code
   * UMBRA_INTERNAL_TOKEN}: each engine has its own home here, and a credential of its own would
   * make the others refuse its sealed takeover notices (docs/webtty.md).
   */
  static final String INTERNAL_TOKEN = "failover-engines-shared-internal-credential-0123456789";

  /** Serves the test tokens' key set (the child engines fetch it as the control plane's). */
  static HttpServer jwks(Vertx vertx, WebTtyTestTokens tokens) throws Exception {
    return get(
        vertx
            .createHttpServer()
            .requestHandler(
                r ->
                    r.response()
                        .putHeader("content-type", "application/json")
                        .end(tokens.jwks().encode()))
            .listen(0, "127.0.0.1"));
  }

  /** An engine in its own JVM on {@code port}, logging to target/{@code name}.log. */
  static Process child(
      String name, TestPostgres pg, String prefix, int port, Path home, HttpServer jwks)
      throws Exception {
    return ChildEngine.start(
        Path.of("target", name + ".log"),
        pg,
        prefix,
        port,
        home,
        Map.of(
            "UMBRA_CONTROL_PLANE_URL",
            "http://127.0.0.1:" + jwks.actualPort(),
            InternalCredential.ENV,
            INTERNAL_TOKEN));
  }

  /** An engine in this JVM on its own bus, trusting the test tokens. */
  static WebTtyService inProcess(
      Vertx vertx, TestPostgres pg, String prefix, Path home, Bus bus, WebTtyTestTokens tokens)
      throws Exception {
    WebTtyService e =
        get(
            TestServices.deploy(
                vertx,
                TestServices.config(
                    ServiceName.WEBTTY_ENGINE,
                    pg,
                    prefix,
                    home,
                    Map.of(InternalCredential.ENV, INTERNAL_TOKEN)),
                bus,
                Metrics.newRegistry(),
                Clock.systemUTC(),
                WebTtyService::new));
    e.sessionVerifier().useKeys(tokens.keySet());
    return e;
  }

  /** A member's client options: its keys, pins under {@code home}, the engine at {@code url}. */
  static TtyClient.Options options(
      URI url,
      UUID ws,
      WebTtyTestTokens tokens,
      Path home,
      String subject,
      Ed25519KeyPair sign,
      X25519KeyPair kx,
      List<X25519PublicKey> extra) {
    return new TtyClient.Options(
        url,
        ws,
        () -> Future.succeededFuture(tokens.member(ws, subject, "member")),
        sign,
        kx,
        ServerTrust.pinned(home.resolve(subject + "-pins")),
        extra,
        Clock.systemUTC());
  }
}
