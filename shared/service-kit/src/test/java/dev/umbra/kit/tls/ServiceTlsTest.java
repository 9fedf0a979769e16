package dev.umbra.kit.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.tls.LocalCertificates;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.bus.InProcessBus;
import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** A kit service with UMBRA_TLS_* set: TLS 1.3 only, reloads, mutual TLS on internal calls. */
class ServiceTlsTest {
  private static final Clock CLOCK = Clock.systemUTC();
  private static final Duration DAY = Duration.ofDays(1);
  private static final String INTERNAL = "internal-token-for-tls-tests-0123456789";

  /** Answers /internal/probe with 204 when the internal credential admits the call, else 401. */
  static class Probe extends UmbraService {
    Probe(ServiceRuntime runtime) {
      super(runtime);
    }

    Map<ServiceName, URI> urls() {
      return settings().publicUrls();
    }

    @Override
    protected boolean servesServiceToServiceCalls() {
      return true;
    }

    @Override
    protected Future<Void> mount(Router router) {
      probe(router);
      return Future.succeededFuture();
    }

    void probe(Router router) {
      InternalCredential internal = InternalCredential.load(settings());
      router
          .get("/internal/probe")
          .handler(
              ctx ->
                  ctx.response().setStatusCode(internal.admits(ctx.request()) ? 204 : 401).end());
    }
  }

  /** The same endpoint on a service that does not declare service-to-service calls. */
  static final class PublicProbe extends Probe {
    PublicProbe(ServiceRuntime runtime) {
      super(runtime);
    }

    @Override
    protected boolean servesServiceToServiceCalls() {
      return false;
    }
  }

  /** The same endpoint on a listener of its own ({@code serviceToServicePort}), port 0. */
  static final class SplitProbe extends Probe {
    SplitProbe(ServiceRuntime runtime) {
      super(runtime);
    }

    @Override
    protected boolean servesServiceToServiceCalls() {
      return false;
    }

    @Override
    protected OptionalInt serviceToServicePort() {
      return OptionalInt.of(0);
    }

    @Override
    protected Future<Void> mount(Router router) {
      return Future.succeededFuture();
    }

    @Override
    protected void mountServiceToService(Router router) {
      probe(router);
    }
  }

  @TempDir Path home;
  private Vertx vertx;
  private LocalCertificates.Issued ca;
  private LocalCertificates.Issued leaf;
  private Path certFile;
  private Path keyFile;
  private Path caFile;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    ca = LocalCertificates.authority("kit test CA", CLOCK, DAY);
    leaf = LocalCertificates.leaf(ca, List.of("localhost", "127.0.0.1"), CLOCK, DAY);
    certFile = home.resolve("tls/cert.pem");
    keyFile = home.resolve("tls/key.pem");
    caFile = home.resolve("tls/ca.pem");
    leaf.write(home, certFile, keyFile);
    ca.write(home, caFile, home.resolve("tls/ca-key.pem"));
  }

  @AfterEach
  void tearDown() throws Exception {
    Futures.await(vertx.close(), Duration.ofSeconds(10));
  }

  private Probe start(Map<String, String> extra) throws Exception {
    return start(extra, Probe::new);
  }

  private Probe start(
      Map<String, String> extra, java.util.function.Function<ServiceRuntime, Probe> service)
      throws Exception {
    Map<String, String> env = new HashMap<>(extra);
    env.put("UMBRA_TLS_CERT_FILE", certFile.toString());
    env.put("UMBRA_TLS_KEY_FILE", keyFile.toString());
    env.put("UMBRA_INTERNAL_TOKEN", INTERNAL);
    ServiceConfig cfg = TestServices.config(ServiceName.RELAY, null, "tls:", home, env);
    return Futures.await(
        TestServices.deploy(
            vertx, cfg, new InProcessBus(vertx), Metrics.newRegistry(), CLOCK, service),
        Duration.ofSeconds(20));
  }

  private static HttpResponse<String> get(SSLContext tls, int port, String path, boolean internal)
      throws Exception {
    HttpClient client =
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(tls).build();
    HttpRequest.Builder req =
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30)); // a cold JVM on a busy machine
    if (internal) {
      req.header(InternalCredential.HEADER, INTERNAL);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void withACertificateAndKeyTheServiceAnswersHealthzOverTls13VerifiedByItsCa() throws Exception {
    Probe s = start(Map.of());
    SSLContext trusting = TlsContexts.trusting(ca.certificate(), null);

    assertThat(get(trusting, s.actualPort(), "/healthz", false).statusCode()).isEqualTo(200);
    assertThat(TlsContexts.handshake(trusting, s.actualPort(), "TLSv1.3"))
        .isEqualTo(leaf.certificate());
    assertThat(s.urls().get(ServiceName.CONTROL_PLANE).getScheme()).isEqualTo("https");
  }

  @Test
  void aClientOfferingOnlyTls12IsRefused() throws Exception {
    Probe s = start(Map.of());
    SSLContext trusting = TlsContexts.trusting(ca.certificate(), null);

    assertThatThrownBy(() -> TlsContexts.handshake(trusting, s.actualPort(), "TLSv1.2"))
        .isInstanceOf(SSLException.class);
  }

  @Test
  void aClientTrustingAnotherCaIsRefused() throws Exception {
    Probe s = start(Map.of());
    SSLContext other =
        TlsContexts.trusting(LocalCertificates.authority("other", CLOCK, DAY).certificate(), null);

    assertThatThrownBy(() -> get(other, s.actualPort(), "/healthz", false))
        .isInstanceOf(SSLException.class);
  }

  @Test
  void aNewCertificateWrittenToTheFilesIsServedWithoutARestart() throws Exception {
    Probe s = start(Map.of("UMBRA_TLS_RELOAD_SECONDS", "1"));
    SSLContext trusting = TlsContexts.trusting(ca.certificate(), null);
    int port = s.actualPort();
    assertThat(TlsContexts.handshake(trusting, port, "TLSv1.3").getSerialNumber())
        .isEqualTo(leaf.certificate().getSerialNumber());

    LocalCertificates.Issued renewed = LocalCertificates.leaf(ca, List.of("127.0.0.1"), CLOCK, DAY);
    renewed.write(home, certFile, keyFile);

    Eventually.await(
        "the renewed certificate is served",
        Duration.ofSeconds(15),
        () ->
            TlsContexts.handshake(trusting, port, "TLSv1.3")
                .getSerialNumber()
                .equals(renewed.certificate().getSerialNumber()));
    assertThat(s.actualPort()).isEqualTo(port);
    assertThat(get(trusting, port, "/healthz", false).statusCode()).isEqualTo(200);
  }

  /**
   * A certificate renewed before its key is written (two files, never replaced at once) is not a
   * pair: the key does not match the certificate. Before, the reloader handed it to the listener
   * anyway (a key store does not check that its key belongs to its certificate), and every new
   * handshake failed until the key was written. Now such a pair is refused (logged, tried again at
   * the next check) and the last good one stays served.
   */
  @Test
  void aRenewedCertificateWhoseKeyIsNotWrittenYetIsNotServedTheLastGoodPairStays()
      throws Exception {
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    Logger reloader = (Logger) LoggerFactory.getLogger(CertificateReloader.class);
    reloader.addAppender(logs);
    try {
      Probe s = start(Map.of("UMBRA_TLS_RELOAD_SECONDS", "1"));
      SSLContext trusting = TlsContexts.trusting(ca.certificate(), null);
      int port = s.actualPort();
      LocalCertificates.Issued renewed =
          LocalCertificates.leaf(ca, List.of("127.0.0.1"), CLOCK, DAY);
      PrivateFiles.replace(certFile, renewed.certificatePem()); // its key not written yet

      Eventually.await(
          "the reloader looked at the renewed certificate",
          Duration.ofSeconds(30),
          () -> !logs.list.isEmpty());
      assertThat(logs.list.get(0).getFormattedMessage()).contains("not reloaded");
      assertThat(TlsContexts.handshake(trusting, port, "TLSv1.3").getSerialNumber())
          .isEqualTo(leaf.certificate().getSerialNumber());

      PrivateFiles.replace(keyFile, renewed.keyPem());
      Eventually.await(
          "the renewed pair is served once its key is written",
          Duration.ofSeconds(30),
          () ->
              TlsContexts.handshake(trusting, port, "TLSv1.3")
                  .getSerialNumber()
                  .equals(renewed.certificate().getSerialNumber()));
    } finally {
      reloader.detachAppender(logs);
    }
  }

  @Test
  void withAClientCaInternalCallsNeedAClientCertificateFromIt() throws Exception {
    Probe s = start(Map.of("UMBRA_TLS_CLIENT_CA_FILE", caFile.toString()));
    int port = s.actualPort();
    LocalCertificates.Issued peer = LocalCertificates.leaf(ca, List.of("pairing"), CLOCK, DAY);
    LocalCertificates.Issued stranger =
        LocalCertificates.leaf(
            LocalCertificates.authority("stranger", CLOCK, DAY), List.of("x"), CLOCK, DAY);

    assertThat(TlsContexts.certificateRequested(ca.certificate(), port)).isTrue();
    String internalHeader = InternalCredential.HEADER + ": " + INTERNAL + "\r\n";
    assertThat(
            TlsContexts.rawStatus(
                TlsContexts.trusting(ca.certificate(), peer),
                port,
                "/internal/probe",
                internalHeader))
        .isEqualTo("HTTP/1.1 204");
    assertThat(
            TlsContexts.rawStatus(
                TlsContexts.trusting(ca.certificate(), null),
                port,
                "/internal/probe",
                internalHeader))
        .isEqualTo("HTTP/1.1 401");
    assertThat(
            TlsContexts.rawStatus(
                TlsContexts.trusting(ca.certificate(), null), port, "/healthz", ""))
        .isEqualTo("HTTP/1.1 200");
    assertThat(
            TlsContexts.rawStatus(
                TlsContexts.trusting(ca.certificate(), stranger),
                port,
                "/internal/probe",
                internalHeader))
        .isIn("", "HTTP/1.1 401"); // the JDK offers no certificate the server's CA list excludes
  }

  /**
   * A service without service-to-service endpoints (the engine, pairing, audit, a relay without its
   * mesh) never asks for a client certificate, even with a client CA: browsers meet no certificate
   * request (docs/deploy.md). A peer's certificate is then never presented, so an internal check on
   * such a listener refuses (fails closed) rather than admitting without mutual TLS.
   */
  @Test
  void withAClientCaAServiceWithoutServiceToServiceEndpointsAsksNoClientForACertificate()
      throws Exception {
    Probe s = start(Map.of("UMBRA_TLS_CLIENT_CA_FILE", caFile.toString()), PublicProbe::new);
    LocalCertificates.Issued peer = LocalCertificates.leaf(ca, List.of("pairing"), CLOCK, DAY);
    assertThat(TlsContexts.certificateRequested(ca.certificate(), s.actualPort())).isFalse();
    String internalHeader = InternalCredential.HEADER + ": " + INTERNAL + "\r\n";
    assertThat(
            TlsContexts.rawStatus(
                TlsContexts.trusting(ca.certificate(), peer),
                s.actualPort(),
                "/internal/probe",
                internalHeader))
        .isEqualTo("HTTP/1.1 401");
    assertThat(
            TlsContexts.rawStatus(
                TlsContexts.trusting(ca.certificate(), null), s.actualPort(), "/healthz", ""))
        .isEqualTo("HTTP/1.1 200");
  }

  /**
   * Service-to-service endpoints on a listener of their own (the relay's mesh port): only that
   * listener asks for a client certificate and serves them; the main one asks nobody and answers
   * 404 for them; the second listener serves nothing else (no health endpoint).
   */
  @Test
  void withAServiceToServiceListenerOnlyThatListenerAsksForACertificate() throws Exception {
    Probe s = start(Map.of("UMBRA_TLS_CLIENT_CA_FILE", caFile.toString()), SplitProbe::new);
    int main = s.actualPort();
    int internalPort = s.actualServiceToServicePort();
    assertThat(internalPort).isPositive().isNotEqualTo(main);
    LocalCertificates.Issued peer = LocalCertificates.leaf(ca, List.of("pairing"), CLOCK, DAY);
    String internalHeader = InternalCredential.HEADER + ": " + INTERNAL + "\r\n";

    assertThat(TlsContexts.certificateRequested(ca.certificate(), main)).isFalse();
    assertThat(TlsContexts.handshakeRequestsCertificate(ca.certificate(), main)).isFalse();
    assertThat(TlsContexts.handshakeRequestsCertificate(ca.certificate(), internalPort)).isTrue();
    SSLContext withPeer = TlsContexts.trusting(ca.certificate(), peer);
    SSLContext without = TlsContexts.trusting(ca.certificate(), null);
    assertThat(TlsContexts.rawStatus(withPeer, internalPort, "/internal/probe", internalHeader))
        .isEqualTo("HTTP/1.1 204");
    assertThat(TlsContexts.rawStatus(without, internalPort, "/internal/probe", internalHeader))
        .isEqualTo("HTTP/1.1 401");
    assertThat(TlsContexts.rawStatus(withPeer, main, "/internal/probe", internalHeader))
        .isEqualTo("HTTP/1.1 404");
    assertThat(TlsContexts.rawStatus(withPeer, internalPort, "/healthz", ""))
        .isEqualTo("HTTP/1.1 404");
    assertThat(TlsContexts.rawStatus(without, main, "/healthz", "")).isEqualTo("HTTP/1.1 200");
  }

  @Test
  void aKeyThatDoesNotBelongToTheCertificateRefusesTheStart() throws Exception {
    LocalCertificates.Issued other = LocalCertificates.leaf(ca, List.of("x"), CLOCK, DAY);
    PrivateFiles.replace(keyFile, other.keyPem());
    assertThatThrownBy(() -> start(Map.of()))
        .hasStackTraceContaining("does not belong to the certificate");
  }

  @Test
  void aCertificateWithoutItsKeyIsAConfigurationError() {
    Env env = new Env(Map.of("UMBRA_TLS_CERT_FILE", certFile.toString()));
    assertThatThrownBy(() -> ServiceTls.load(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("UMBRA_TLS_KEY_FILE");
    Env missing =
        new Env(
            Map.of(
                "UMBRA_TLS_CERT_FILE", home.resolve("nope.pem").toString(),
                "UMBRA_TLS_KEY_FILE", keyFile.toString()));
    assertThatThrownBy(() -> ServiceTls.load(missing))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("UMBRA_TLS_CERT_FILE");
  }
}
