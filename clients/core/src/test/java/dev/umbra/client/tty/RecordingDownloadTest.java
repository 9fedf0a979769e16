package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A recording comes from the engine, which is outside the trust boundary: what it sends is bounded
 * while it arrives, whether it declares its length or streams it in chunks.
 */
class RecordingDownloadTest {
  private Vertx vertx;
  private HttpServer server;
  private final byte[] body = new byte[300_000];

  @BeforeEach
  void serve() throws Exception {
    vertx = Vertx.vertx();
    server =
        vertx
            .createHttpServer()
            .requestHandler(
                req -> {
                  if (!"Bearer t0k".equals(req.getHeader("Authorization"))) {
                    req.response().setStatusCode(404).end();
                  } else if (req.query() != null && req.query().contains("chunked")) {
                    req.response().setChunked(true);
                    for (int i = 0; i < 3; i++) {
                      req.response().write(Buffer.buffer(body));
                    }
                    req.response().end();
                  } else {
                    req.response().end(Buffer.buffer(body));
                  }
                })
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private URI engine() {
    return URI.create("http://127.0.0.1:" + server.actualPort());
  }

  @Test
  void downloadsARecordingWithinTheBound() throws Exception {
    assertThat(RecordingDownload.export(engine(), "s1", "t0k", body.length)).hasSize(body.length);
  }

  @Test
  void refusesADeclaredLengthOverTheBound() {
    assertThatThrownBy(() -> RecordingDownload.export(engine(), "s1", "t0k", body.length - 1))
        .isInstanceOf(RecordingDownload.Failure.class)
        .hasMessageContaining("refused unread");
  }

  @Test
  void refusesAStreamedBodyOnceItPassesTheBound() {
    assertThatThrownBy(
            () -> RecordingDownload.export(engine(), "s1?chunked=1&x=", "t0k", body.length * 2L))
        .isInstanceOf(RecordingDownload.Failure.class)
        .hasMessageContaining("larger than 600000 bytes");
  }

  @Test
  void anEngineRefusalKeepsItsStatus() {
    assertThatThrownBy(() -> RecordingDownload.export(engine(), "s1", "wrong", 1 << 20))
        .isInstanceOfSatisfying(
            RecordingDownload.Failure.class, f -> assertThat(f.status()).isEqualTo(404));
  }
}
