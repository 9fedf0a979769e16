package dev.umbra.client.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.client.messaging.LiveReceiver;
import dev.umbra.crypto.tls.CertificatePins;
import dev.umbra.crypto.tls.LocalCertificates;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.lang.ref.Reference;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's and daemon's verification of a service's certificate: CA file, pin, clear refusals. */
class ClientTlsTest {
  private static final Clock CLOCK = Clock.systemUTC();

  @TempDir Path dir;
  private Vertx vertx;
  private LocalCertificates.Issued ca;
  private LocalCertificates.Issued leaf;
  private Path caFile;
  private URI base;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    TestTls tls = TestTls.in(dir);
    ca = tls.ca();
    leaf = tls.leaf();
    caFile = tls.caFile();
    HttpServer server =
        vertx
            .createHttpServer(tls.serverOptions())
            .webSocketHandler(
                ws -> {
                  if (ws.path().equals("/live")) {
                    ws.writeTextMessage("{\"type\":\"ready\"}"); // as the messaging socket
                  } else {
                    ws.textMessageHandler(ws::writeTextMessage);
                  }
                })
            .requestHandler(
                r ->
                    r.response()
                        .putHeader("content-type", "application/json")
                        .end("{\"ok\":true}"));
    server
        .listen(0, "127.0.0.1")
        .toCompletionStage()
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
    base = URI.create("https://127.0.0.1:" + server.actualPort());
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private JsonHttp client(Map<String, String> env) {
    return new JsonHttp(ClientTls.fromEnvironment(env));
  }

  @Test
  void aServiceSignedByTheConfiguredCaIsReached() {
    assertThat(
            client(Map.of("UMBRA_TLS_CA_FILE", caFile.toString()))
                .get(base.resolve("/x"), null)
                .getBoolean("ok"))
        .isTrue();
  }

  @Test
  void withoutTheCaTheServiceIsRefusedAsNotTrusted() {
    assertThatThrownBy(() -> client(Map.of()).get(base.resolve("/x"), null))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.code()).isEqualTo("tls_refused"))
        .hasMessageContaining("not signed by a trusted CA")
        // ...and what to do: the CA to trust, and where `umbra dev --tls` keeps its own
        .hasMessageContaining("set UMBRA_TLS_CA_FILE to the CA that issued it")
        .hasMessageContaining("export UMBRA_TLS_CA_FILE=$UMBRA_HOME/dev/tls/ca.pem");
  }

  @Test
  void theRightPinIsAcceptedAndAWrongOneRefusedNamingBoth() {
    String right = CertificatePins.spkiSha256(leaf.certificate());
    assertThat(
            client(Map.of("UMBRA_TLS_CA_FILE", caFile.toString(), "UMBRA_TLS_PIN", right))
                .get(base.resolve("/x"), null)
                .getBoolean("ok"))
        .isTrue();

    String wrong = CertificatePins.spkiSha256(ca.certificate());
    assertThatThrownBy(
            () ->
                client(Map.of("UMBRA_TLS_CA_FILE", caFile.toString(), "UMBRA_TLS_PIN", wrong))
                    .get(base.resolve("/x"), null))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.code()).isEqualTo("tls_refused"))
        .hasMessageContaining("UMBRA_TLS_PIN")
        .hasMessageContaining(wrong)
        .hasMessageContaining(right);
  }

  @Test
  void aMalformedPinIsAConfigurationError() {
    assertThatThrownBy(() -> ClientTls.fromEnvironment(Map.of("UMBRA_TLS_PIN", "deadbeef")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("UMBRA_TLS_PIN");
  }

  @Test
  void aVertxWebSocketClientUsesTheSameTrustAndPin() throws Exception {
    String wss = "wss://127.0.0.1:" + base.getPort() + "/ws";
    ClientTls trusted = ClientTls.of(Optional.of(caFile), Optional.empty());
    // held until the answer: Vert.x closes a client that became unreachable, so a GC in the
    // middle of the handshake failed it ("Connection closed while handshake in process")
    WebSocketClient client =
        vertx.createWebSocketClient(trusted.apply(new WebSocketClientOptions()));
    String first =
        client
            .connect(new WebSocketConnectOptions().setAbsoluteURI(wss))
            .compose(ClientTlsTest::echoOf)
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    Reference.reachabilityFence(client);
    assertThat(first).isEqualTo("hello");

    ClientTls pinnedWrong =
        ClientTls.of(
            Optional.of(caFile), Optional.of(CertificatePins.spkiSha256(ca.certificate())));
    WebSocketClient pinned =
        vertx.createWebSocketClient(pinnedWrong.apply(new WebSocketClientOptions()));
    assertThatThrownBy(
            () ->
                pinned
                    .connect(new WebSocketConnectOptions().setAbsoluteURI(wss))
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(20, TimeUnit.SECONDS))
        .satisfies(e -> assertThat(ClientTls.explain(e)).contains("UMBRA_TLS_PIN"));
    Reference.reachabilityFence(pinned);
  }

  @Test
  void theMessagingLiveSocketUsesTheSameTrustAndPin() throws Exception {
    URI live = URI.create("wss://127.0.0.1:" + base.getPort() + "/live");
    assertThat(liveStatus(live, ClientTls.of(Optional.of(caFile), Optional.empty())))
        .isEqualTo("connected");
    String wrong = CertificatePins.spkiSha256(ca.certificate());
    assertThat(liveStatus(live, ClientTls.of(Optional.of(caFile), Optional.of(wrong))))
        .as("a pinned key the server does not have: the token is not sent")
        .startsWith("cannot connect");
  }

  /** The first verdict of a live receiver on {@code url}: connected, or cannot connect. */
  private static String liveStatus(URI url, ClientTls tls) throws Exception {
    List<String> statuses = new CopyOnWriteArrayList<>();
    Predicate<String> verdict = s -> s.equals("connected") || s.startsWith("cannot connect");
    LiveReceiver.Listener listener =
        new LiveReceiver.Listener() {
          @Override
          public void fetch() {}

          @Override
          public void message(JsonObject message) {}

          @Override
          public void status(String status) {
            statuses.add(status);
          }
        };
    new LiveReceiver(url, () -> "token", CLOCK, Duration.ofSeconds(15), listener, tls)
        .run(() -> statuses.stream().anyMatch(verdict));
    return statuses.stream().filter(verdict).findFirst().orElseThrow();
  }

  private static io.vertx.core.Future<String> echoOf(io.vertx.core.http.WebSocket ws) {
    io.vertx.core.Promise<String> p = io.vertx.core.Promise.promise();
    ws.textMessageHandler(p::tryComplete);
    ws.writeTextMessage("hello");
    return p.future();
  }
}
