package dev.umbra.client.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.RunCommand;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one-shot relay client's WebSocket: what the relay sends is checked, frame by frame, and a
 * relay that misbehaves ends the client's channels with a clear reason (the real relay's answers:
 * tests/e2e OneShotRelayTest).
 */
class RelayWebSocketTest {
  private static byte[] frame(int b0, byte[] payload) {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write(b0);
    int n = payload.length;
    if (n < 126) {
      f.write(n);
    } else {
      f.write(126);
      f.write(n >>> 8);
      f.write(n);
    }
    f.writeBytes(payload);
    return f.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      all.writeBytes(p);
    }
    return all.toByteArray();
  }

  private record Received(List<byte[]> messages, List<Integer> controls) {}

  private static Received receiveAll(byte[] bytes) throws IOException {
    InputStream in = new ByteArrayInputStream(bytes);
    List<byte[]> messages = new ArrayList<>();
    List<Integer> controls = new ArrayList<>();
    byte[] m;
    while ((m = RelayWebSocket.receive(in, (op, p) -> controls.add(op))) != null) {
      messages.add(m);
    }
    return new Received(messages, controls);
  }

  private static RelayWebSocket.Reason refusal(byte[] bytes) {
    try {
      receiveAll(bytes);
    } catch (RelayWebSocket.Refused e) {
      return e.reason();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("accepted");
  }

  @Test
  void binaryMessagesWholeOrFragmentedArriveAndPingsAreAnswered() throws Exception {
    byte[] big = new byte[70_000];
    Received r =
        receiveAll(
            concat(
                frame(0x82, "one".getBytes(StandardCharsets.UTF_8)),
                frame(0x89, new byte[] {1}),
                frame(0x02, "tw".getBytes(StandardCharsets.UTF_8)),
                frame(0x80, "o".getBytes(StandardCharsets.UTF_8)),
                new byte[] {(byte) 0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70},
                big));
    assertThat(r.messages()).hasSize(3);
    assertThat(new String(r.messages().get(0), StandardCharsets.UTF_8)).isEqualTo("one");
    assertThat(new String(r.messages().get(1), StandardCharsets.UTF_8)).isEqualTo("two");
    assertThat(r.messages().get(2)).hasSize(70_000);
    assertThat(r.controls()).containsExactly(0x9);
  }

  @Test
  void aCloseFrameOrTheEndBetweenFramesIsACleanEnd() throws Exception {
    assertThat(
            receiveAll(
                    concat(frame(0x82, new byte[] {7}), frame(0x88, new byte[] {3, (byte) 0xE8})))
                .controls())
        .containsExactly(0x8);
    assertThat(receiveAll(frame(0x82, new byte[] {7})).messages()).hasSize(1);
  }

  @Test
  void aConnectionThatEndsInsideAFrameIsTruncated() {
    assertThat(refusal(new byte[] {(byte) 0x82})).isEqualTo(RelayWebSocket.Reason.TRUNCATED);
    assertThat(refusal(new byte[] {(byte) 0x82, 126, 1}))
        .isEqualTo(RelayWebSocket.Reason.TRUNCATED);
    assertThat(refusal(new byte[] {(byte) 0x82, 10, 1, 2, 3}))
        .isEqualTo(RelayWebSocket.Reason.TRUNCATED);
    assertThat(refusal(frame(0x02, new byte[] {1}))).isEqualTo(RelayWebSocket.Reason.TRUNCATED);
  }

  @Test
  void framesTheRelayMayNotSendAreMalformedOrOversized() {
    assertThat(refusal(new byte[] {(byte) 0x82, (byte) 0x81, 0, 0, 0, 0, 5}))
        .as("masked")
        .isEqualTo(RelayWebSocket.Reason.MALFORMED);
    assertThat(refusal(frame(0xC2, new byte[] {1})))
        .as("reserved bit")
        .isEqualTo(RelayWebSocket.Reason.MALFORMED);
    assertThat(refusal(frame(0x81, "text".getBytes(StandardCharsets.UTF_8))))
        .as("text")
        .isEqualTo(RelayWebSocket.Reason.MALFORMED);
    assertThat(refusal(frame(0x83, new byte[] {1})))
        .as("unknown opcode")
        .isEqualTo(RelayWebSocket.Reason.MALFORMED);
    assertThat(refusal(frame(0x80, new byte[] {1})))
        .as("continuation first")
        .isEqualTo(RelayWebSocket.Reason.MALFORMED);
    assertThat(refusal(frame(0x09, new byte[] {1})))
        .as("fragmented ping")
        .isEqualTo(RelayWebSocket.Reason.MALFORMED);
    assertThat(refusal(new byte[] {(byte) 0x82, 127, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0}))
        .as("length over 2^63")
        .isEqualTo(RelayWebSocket.Reason.MALFORMED);
    assertThat(refusal(new byte[] {(byte) 0x82, 127, 0, 0, 0, 0, 0, 2, 0, 1}))
        .as("over the limit")
        .isEqualTo(RelayWebSocket.Reason.OVERSIZED);
  }

  private static void upgrade(String answer, String key) throws IOException {
    RelayWebSocket.upgraded(
        new ByteArrayInputStream(answer.getBytes(StandardCharsets.ISO_8859_1)),
        RelayWebSocket.expectedAccept(key));
  }

  @Test
  void theUpgradeAnswerIsCheckedAndARefusedTokenSaysSo() {
    String key = "dGhlIHNhbXBsZSBub25jZQ==";
    assertThat(RelayWebSocket.expectedAccept(key))
        .isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); // RFC 6455 section 1.3
    assertThatThrownBy(() -> upgrade("HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n", key))
        .isInstanceOfSatisfying(
            RelayWebSocket.Refused.class,
            e -> {
              assertThat(e.reason()).isEqualTo(RelayWebSocket.Reason.UPGRADE_REFUSED);
              assertThat(e.status()).isEqualTo(401);
            })
        .hasMessage("the relay refused the session token (HTTP 401)");
    assertThatThrownBy(
            () ->
                upgrade(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
                    key))
        .isInstanceOfSatisfying(
            RelayWebSocket.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(RelayWebSocket.Reason.MALFORMED));
    assertThatThrownBy(
            () -> upgrade("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n", key))
        .isInstanceOfSatisfying(
            RelayWebSocket.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(RelayWebSocket.Reason.TRUNCATED));
    assertThatThrownBy(
            () ->
                upgrade(
                    "HTTP/1.1 101 Switching Protocols\r\nX: "
                        + "y".repeat(RelayWebSocket.MAX_HEAD_BYTES)
                        + "\r\n\r\n",
                    key))
        .isInstanceOfSatisfying(
            RelayWebSocket.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(RelayWebSocket.Reason.OVERSIZED));
  }

  /**
   * A relay that upgrades every connection and then sends what {@code after} gives for the first
   * message it reads.
   */
  private static final class FakeRelay implements AutoCloseable {
    private final ServerSocket server;

    FakeRelay(Function<byte[], byte[]> after) throws IOException {
      server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
      Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                try (Socket c = server.accept()) {
                  RelayWebSocket relay = RelayWebSocket.accept(c);
                  byte[] open = relay.receive();
                  c.getOutputStream().write(after.apply(open));
                  c.getOutputStream().flush();
                } catch (IOException e) {
                  // the client went away
                }
              });
    }

    URI url() {
      return URI.create("ws://127.0.0.1:" + server.getLocalPort() + "/v1/relay");
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  private static ChannelClosedException openFailure(FakeRelay relay) throws Exception {
    try (PlainRelayClient client =
        PlainRelayClient.connect(
            relay.url(), "token", "w", X25519KeyPair.generate(), null, Duration.ofSeconds(10))) {
      CompletableFuture<OpenedChannel> opened =
          client.open(
              "machine",
              X25519KeyPair.generate().publicKey(),
              ChannelStart.newBuilder().setRun(RunCommand.newBuilder().addArgv("true")).build());
      try {
        opened.get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        return (ChannelClosedException) e.getCause();
      }
      throw new AssertionError("opened");
    }
  }

  @Test
  void clientAndServerSidesExchangeMessagesOfEverySize() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      CompletableFuture<List<byte[]>> echoed =
          CompletableFuture.supplyAsync(
              () -> {
                try (Socket c = server.accept();
                    RelayWebSocket relay = RelayWebSocket.accept(c)) {
                  List<byte[]> got = new ArrayList<>();
                  byte[] m;
                  while ((m = relay.receive()) != null) {
                    got.add(m);
                    relay.send(m);
                  }
                  return got;
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
      URI url = URI.create("ws://127.0.0.1:" + server.getLocalPort() + "/v1/relay");
      try (RelayWebSocket ws = RelayWebSocket.connect(url, "token", Duration.ofSeconds(10))) {
        for (int size : new int[] {0, 1, 125, 126, 65_535, 65_536, RelayWebSocket.MAX_MESSAGE}) {
          byte[] m = new byte[size];
          Arrays.fill(m, (byte) size);
          ws.send(m);
          assertThat(ws.receive()).isEqualTo(m);
        }
      }
      assertThat(echoed.get(10, TimeUnit.SECONDS)).hasSize(7);
    }
  }

  @Test
  void aWssRelayWhoseCertificateIsNotTrustedIsRefusedBeforeTheTokenIsSent(@TempDir Path dir)
      throws Exception {
    Path store = dir.resolve("relay.p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-keystore",
                store.toString(),
                "-storepass",
                "changeit",
                "-storetype",
                "PKCS12",
                "-alias",
                "relay",
                "-keyalg",
                "EC",
                "-dname",
                "CN=127.0.0.1",
                "-ext",
                "san=ip:127.0.0.1",
                "-validity",
                "2")
            .redirectErrorStream(true)
            .start();
    keytool.getInputStream().transferTo(OutputStream.nullOutputStream());
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0).isTrue();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    try (ServerSocket server =
        tls.getServerSocketFactory().createServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      CompletableFuture<byte[]> heard =
          CompletableFuture.supplyAsync(
              () -> {
                try (Socket c = server.accept()) {
                  return c.getInputStream().readAllBytes();
                } catch (IOException e) {
                  return new byte[0]; // the handshake failed: nothing was heard
                }
              });
      URI url = URI.create("wss://127.0.0.1:" + server.getLocalPort() + "/v1/relay");
      assertThatThrownBy(() -> RelayWebSocket.connect(url, "secret-token", Duration.ofSeconds(10)))
          .isInstanceOf(SSLException.class);
      assertThat(new String(heard.get(10, TimeUnit.SECONDS), StandardCharsets.ISO_8859_1))
          .doesNotContain("secret-token");
    }
  }

  @Test
  void aTruncatedFrameFromTheRelayEndsTheChannelWithWhy() throws Exception {
    try (FakeRelay relay = new FakeRelay(open -> new byte[] {(byte) 0x82, 50, 1, 2, 3})) {
      ChannelClosedException e = openFailure(relay);
      assertThat(e.code()).isEqualTo(PlainRelayClient.RELAY_LOST);
      assertThat(e.getMessage())
          .isEqualTo(
              "the relay connection failed: the relay connection ended inside a WebSocket frame");
    }
  }

  @Test
  void aMalformedFrameOrAnUnreadableMessageFromTheRelayEndsTheChannelWithWhy() throws Exception {
    try (FakeRelay relay =
        new FakeRelay(open -> frame(0x81, "hello".getBytes(StandardCharsets.UTF_8)))) {
      ChannelClosedException e = openFailure(relay);
      assertThat(e.code()).isEqualTo(PlainRelayClient.RELAY_LOST);
      assertThat(e.getMessage()).contains("a text WebSocket message from the relay");
    }
    try (FakeRelay relay =
        new FakeRelay(open -> frame(0x82, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}))) {
      assertThat(openFailure(relay).getMessage()).isEqualTo("the relay sent an unreadable frame");
    }
  }

  @Test
  void aRelayThatClosesBeforeAnsweringEndsTheChannelWithWhy() throws Exception {
    try (FakeRelay relay = new FakeRelay(open -> frame(0x88, new byte[] {3, (byte) 0xE8}))) {
      ChannelClosedException e = openFailure(relay);
      assertThat(e.code()).isEqualTo(PlainRelayClient.RELAY_LOST);
      assertThat(e.getMessage()).isEqualTo("the relay closed the connection");
    }
  }
}
