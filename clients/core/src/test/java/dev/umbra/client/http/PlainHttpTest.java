package dev.umbra.client.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PlainHttp} against a socket that answers with exactly the bytes each test gives: what a
 * well-formed HTTP/1.1 answer gives, and that a malformed, truncated or oversized one is refused
 * with its reason; through {@link JsonHttp}, what each becomes for a caller.
 */
class PlainHttpTest {
  private static final Duration SECONDS_5 = Duration.ofSeconds(5);
  private ServerSocket server;
  private final CompletableFuture<String> request = new CompletableFuture<>();
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void close() throws IOException {
    release.countDown();
    if (server != null) {
      server.close();
    }
  }

  /**
   * Serves one connection: reads the request head (and a Content-Length body), writes {@code
   * answer}, closes (or holds it open).
   */
  private URI answering(String answer, boolean hold) throws IOException {
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try (Socket c = server.accept()) {
                request.complete(readRequest(c.getInputStream()));
                c.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
                c.getOutputStream().flush();
                if (hold) {
                  release.await(30, TimeUnit.SECONDS);
                }
              } catch (IOException | InterruptedException e) {
                request.completeExceptionally(e);
              }
            });
    return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/v1/things?x=1");
  }

  private static String readRequest(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
    }
    String h = head.toString(StandardCharsets.ISO_8859_1);
    int length = 0;
    for (String line : h.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).strip());
      }
    }
    return h + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  private PlainHttp.Response get(URI url) throws IOException {
    return PlainHttp.exchange(
        "GET", url, Map.of("accept", "application/json"), null, SECONDS_5, SECONDS_5, 1000);
  }

  private void refused(String answer, PlainHttp.Reason reason) throws IOException {
    URI url = answering(answer, false);
    assertThatThrownBy(() -> get(url))
        .as(answer)
        .isInstanceOfSatisfying(
            PlainHttp.Refused.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  @Test
  void sendsOneRequestPerConnectionAndReadsAContentLengthBody() throws Exception {
    URI url =
        answering(
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"a\":1}\n",
            true);
    PlainHttp.Response r =
        PlainHttp.exchange(
            "POST",
            url,
            Map.of("authorization", "Bearer t"),
            "{}".getBytes(StandardCharsets.UTF_8),
            SECONDS_5,
            SECONDS_5,
            1000);
    assertThat(r.status()).isEqualTo(201);
    assertThat(r.text()).isEqualTo("{\"a\":1}\n");
    assertThat(request.get(5, TimeUnit.SECONDS))
        .startsWith("POST /v1/things?x=1 HTTP/1.1\r\n")
        .contains(
            "\r\nHost: 127.0.0.1:" + url.getPort() + "\r\n",
            "\r\nConnection: close\r\n",
            "\r\nauthorization: Bearer t\r\n",
            "\r\nContent-Length: 2\r\n")
        .endsWith("\r\n\r\n{}");
  }

  @Test
  void readsChunkedBodiesWithExtensionsAndTrailers() throws Exception {
    URI url =
        answering(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: y\r\n\r\n",
            true);
    assertThat(get(url).text()).isEqualTo("{\"a\":1}");
  }

  @Test
  void readsABodyFramedByTheEndOfTheConnection() throws Exception {
    assertThat(get(answering("HTTP/1.0 200 OK\r\n\r\nhello", false)).text()).isEqualTo("hello");
  }

  @Test
  void skipsInterimAnswersAndReadsNoBodyWhereThereIsNone() throws Exception {
    assertThat(
            get(answering(
                    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                    false))
                .text())
        .isEqualTo("ok");
    close();
    PlainHttp.Response r = get(answering("HTTP/1.1 204 No Content\r\n\r\n", true));
    assertThat(r.status()).isEqualTo(204);
    assertThat(r.body()).isEmpty();
  }

  @Test
  void doesNotFollowRedirects() throws Exception {
    URI url =
        answering(
            "HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/\r\nContent-Length: 0\r\n\r\n",
            true);
    assertThat(get(url).status()).isEqualTo(302);
  }

  @Test
  void refusesTruncatedAnswers() throws Exception {
    refused("", PlainHttp.Reason.TRUNCATED);
    close();
    refused("HTTP/1.1 200 OK\r\nContent-Len", PlainHttp.Reason.TRUNCATED);
    close();
    refused("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", PlainHttp.Reason.TRUNCATED);
    close();
    refused(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", PlainHttp.Reason.TRUNCATED);
    close();
    refused(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
        PlainHttp.Reason.TRUNCATED);
  }

  @Test
  void refusesMalformedAnswers() throws Exception {
    for (String bad :
        new String[] {
          "SSH-2.0-OpenSSH\r\n\r\n",
          "HTTP/2 200\r\n\r\n",
          "HTTP/1.1 20 OK\r\n\r\n",
          "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
          "HTTP/1.1 200 OK\r\n folded: header\r\n\r\n",
          "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
          "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"
        }) {
      refused(bad, PlainHttp.Reason.MALFORMED);
      close();
    }
  }

  @Test
  void refusesOversizedAnswers() throws Exception {
    refused("HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n", PlainHttp.Reason.OVERSIZED);
    close();
    refused("HTTP/1.1 200 OK\r\n\r\n" + "x".repeat(1001), PlainHttp.Reason.OVERSIZED);
    close();
    refused(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n"
            + "x".repeat(1000)
            + "\r\n1\r\nx\r\n0\r\n\r\n",
        PlainHttp.Reason.OVERSIZED);
    close();
    refused(
        "HTTP/1.1 200 OK\r\nX-Big: " + "x".repeat(PlainHttp.MAX_HEAD_BYTES) + "\r\n\r\n",
        PlainHttp.Reason.OVERSIZED);
    close();
    refused(
        "HTTP/1.1 200 OK\r\n" + "X-H: 1\r\n".repeat(PlainHttp.MAX_HEADERS + 1) + "\r\n",
        PlainHttp.Reason.OVERSIZED);
  }

  @Test
  void anAnswerThatNeverEndsTimesOut() throws Exception {
    URI url = answering("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true);
    assertThatThrownBy(
            () ->
                PlainHttp.exchange(
                    "GET", url, Map.of(), null, SECONDS_5, Duration.ofMillis(300), 1000))
        .isInstanceOf(SocketTimeoutException.class);
  }

  @Test
  void refusesHeadersThatWouldSplitTheRequest() {
    assertThatThrownBy(
            () ->
                PlainHttp.exchange(
                    "GET",
                    URI.create("http://127.0.0.1:1/"),
                    Map.of("x", "a\r\nInjected: 1"),
                    null,
                    SECONDS_5,
                    SECONDS_5,
                    1000))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void jsonHttpTurnsAnswersIntoValuesAndErrors() throws Exception {
    JsonHttp http = new JsonHttp();
    URI ok = answering("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"items\":[1]}", true);
    assertThat(http.get(ok, "token"))
        .isEqualTo(new JsonObject().put("items", new io.vertx.core.json.JsonArray().add(1)));
    assertThat(request.get(5, TimeUnit.SECONDS))
        .contains("\r\nauthorization: Bearer token\r\n", "\r\naccept: application/json\r\n");
    close();
    String error = "{\"error\":{\"code\":\"not_found\",\"message\":\"no such\",\"x\":1}}";
    URI err =
        answering(
            "HTTP/1.1 404 Not Found\r\nContent-Length: " + error.length() + "\r\n\r\n" + error,
            true);
    assertThatThrownBy(() -> http.get(err, null))
        .isInstanceOfSatisfying(
            ApiError.class,
            e -> {
              assertThat(e.status()).isEqualTo(404);
              assertThat(e.code()).isEqualTo("not_found");
              assertThat(e.getMessage()).isEqualTo("no such");
            });
    close();
    URI notJson = answering("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<html>", true);
    assertThatThrownBy(() -> http.get(notJson, null))
        .isInstanceOfSatisfying(
            ApiError.class, e -> assertThat(e.code()).isEqualTo("bad_response"));
    close();
    URI malformed =
        answering("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", false);
    assertThatThrownBy(() -> http.get(malformed, null))
        .isInstanceOfSatisfying(
            ApiError.class,
            e -> {
              assertThat(e.code()).isEqualTo("bad_response");
              assertThat(e.getMessage()).contains("malformed HTTP response");
            });
    close();
    URI redirect =
        answering(
            "HTTP/1.1 301 Moved\r\nLocation: http://elsewhere.invalid/\r\nContent-Length: 0\r\n\r\n",
            true);
    assertThatThrownBy(() -> http.get(redirect, null))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.code()).isEqualTo("http_301"));
    close();
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    int closedPort = server.getLocalPort();
    server.close();
    assertThatThrownBy(() -> http.get(URI.create("http://127.0.0.1:" + closedPort + "/"), null))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.code()).isEqualTo("unreachable"));
  }
}
