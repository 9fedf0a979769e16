package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.client.http.ClientTls;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.http.TestTls;
import dev.umbra.crypto.tls.CertificatePins;
import dev.umbra.crypto.tls.LocalCertificates;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.io.IOException;
import java.lang.ref.Reference;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `umbra tty` and `umbra recordings export` against an engine behind a private CA (`umbra dev
 * --tls`): verified with the CLI's `UMBRA_TLS_CA_FILE` and `UMBRA_TLS_PIN` like its other calls,
 * not with the JDK's system trust alone (which refused the dev CA with "Failed to create SSL
 * connection").
 */
class EngineTlsTest {
  @TempDir Path dir;
  private Vertx vertx;
  private LocalCertificates.Issued ca;
  private Path caFile;
  private URI engine;

  @BeforeEach
  void serve() throws Exception {
    vertx = Vertx.vertx();
    TestTls tls = TestTls.in(dir);
    ca = tls.ca();
    caFile = tls.caFile();
    HttpServer server =
        vertx
            .createHttpServer(tls.serverOptions())
            .webSocketHandler(ws -> {})
            .requestHandler(r -> r.response().end("recording"))
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    engine = URI.create("https://127.0.0.1:" + server.actualPort());
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void theTerminalSocketTrustsTheConfiguredCaAndEnforcesThePin() throws Exception {
    assertThat(connect(ClientTls.of(Optional.of(caFile), Optional.empty()))).isEqualTo("opened");

    Throwable untrusted = failure(ClientTls.system());
    assertThat(ClientTls.isTls(untrusted)).isTrue();
    assertThat(ClientTls.explain(untrusted)).contains("not signed by a trusted CA");

    String wrong = CertificatePins.spkiSha256(ca.certificate());
    Throwable pinned = failure(ClientTls.of(Optional.of(caFile), Optional.of(wrong)));
    assertThat(ClientTls.explain(pinned)).contains("UMBRA_TLS_PIN").contains(wrong);
  }

  @Test
  void aRecordingExportTrustsTheConfiguredCaAndEnforcesThePin() throws Exception {
    JsonHttp trusted = new JsonHttp(ClientTls.of(Optional.of(caFile), Optional.empty()));
    assertThat(new String(RecordingDownload.export(trusted, engine, "s1", "t0k", 1 << 10)))
        .isEqualTo("recording");

    assertThatThrownBy(() -> RecordingDownload.export(new JsonHttp(), engine, "s1", "t0k", 1024))
        .isInstanceOf(IOException.class)
        .satisfies(e -> assertThat(ClientTls.isTls(e)).isTrue());

    String wrong = CertificatePins.spkiSha256(ca.certificate());
    JsonHttp pinned = new JsonHttp(ClientTls.of(Optional.of(caFile), Optional.of(wrong)));
    assertThatThrownBy(() -> RecordingDownload.export(pinned, engine, "s1", "t0k", 1024))
        .satisfies(e -> assertThat(ClientTls.explain(e)).contains("UMBRA_TLS_PIN"));
  }

  /** "opened", or the failure of the engine socket's upgrade under {@code tls}. */
  private String connect(ClientTls tls) throws Exception {
    Promise<String> outcome = Promise.promise();
    // held until the outcome: Vert.x closes a WebSocket client that became unreachable
    EngineSocket socket = new EngineSocket(vertx, new TtyStats(), tls);
    vertx.runOnContext(
        v ->
            socket.connect(
                engine,
                () -> Future.succeededFuture("token"),
                () -> outcome.tryComplete("opened"),
                b -> {},
                why -> {},
                outcome::tryFail));
    try {
      return outcome.future().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } finally {
      Reference.reachabilityFence(socket);
    }
  }

  private Throwable failure(ClientTls tls) {
    Throwable[] seen = new Throwable[1];
    assertThatThrownBy(() -> connect(tls)).satisfies(e -> seen[0] = e);
    return seen[0];
  }
}
