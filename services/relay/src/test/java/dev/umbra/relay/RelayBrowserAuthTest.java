package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import dev.umbra.kit.http.BrowserOrigin;
import dev.umbra.kit.http.BrowserSocketToken;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.testing.RawPeer;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.TestTokens;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The browser app's way onto the relay (docs/relay.md "Browsers"): a page cannot set {@code
 * Authorization} on a WebSocket, so it offers its session token as a subprotocol next to {@value
 * RelayWire#BROWSER_PROTOCOL}. The relay reads it only from the app's origin, before anything else
 * of the request, selects the plain protocol (the token is not echoed) and then treats the
 * connection as any client's; another origin, or none, is refused 403 and a socket without a valid
 * token 401 — no WebSocket either way. The token is in no log line.
 */
class RelayBrowserAuthTest {
  @RegisterExtension static final RelayCluster.Fixture fixture = new RelayCluster.Fixture();
  private final Vertx vertx = fixture.vertx();
  private final TestTokens tokens = fixture.tokens();
  @TempDir static Path home;

  private RelayCluster cluster;
  private RelayCluster.Instance relay;
  private ListAppender<ILoggingEvent> logs;
  private final List<WebSocketClient> clients = new ArrayList<>();
  private final UUID ws = UUID.randomUUID();
  private final String machine = "m-" + UUID.randomUUID();

  @BeforeEach
  void start() {
    logs = new ListAppender<>();
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    ((Logger) LoggerFactory.getLogger("dev.umbra")).setLevel(Level.DEBUG);
    cluster = fixture.one(home, Map.of());
    relay = cluster.instance(0);
  }

  @AfterEach
  void stop() {
    clients.forEach(WebSocketClient::close);
    cluster.close();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
  }

  private String appOrigin() {
    return BrowserOrigin.of(tokens.controlPlaneUrl()).origin();
  }

  /** A browser's upgrade: these subprotocols, this Origin (null: none). */
  private WebSocket browser(String origin, List<String> protocols) {
    WebSocketClient client = vertx.createWebSocketClient();
    clients.add(client);
    WebSocketConnectOptions o =
        new WebSocketConnectOptions()
            .setAbsoluteURI(relay.url().toString())
            .setSubProtocols(protocols);
    if (origin != null) {
      o.putHeader("origin", origin);
    }
    return RelayCluster.await(client.connect(o));
  }

  /** The HTTP status the relay refused the upgrade with (101: it was accepted). */
  private int refusal(String origin, List<String> protocols) {
    try {
      browser(origin, protocols);
      return 101;
    } catch (IllegalStateException e) {
      Throwable t = e;
      while (t != null && !(t instanceof UpgradeRejectedException)) {
        t = t.getCause();
      }
      assertThat(t).as("an upgrade refused by status").isInstanceOf(UpgradeRejectedException.class);
      return ((UpgradeRejectedException) t).getStatus();
    }
  }

  private static List<String> offering(String token) {
    return List.of(RelayWire.BROWSER_PROTOCOL, BrowserSocketToken.TOKEN_PROTOCOL + token);
  }

  @Test
  void aPageOfTheAppsOriginOpensChannelsWithItsTokenInASubprotocolThatIsNeverEchoed()
      throws Exception {
    RawPeer daemon = RawPeer.open(vertx, relay.url(), tokens.machine(ws, machine));
    daemon.send(
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_REGISTER)
            .setWorkspaceId(ws.toString())
            .setTargetId(machine)
            .build());
    assertThat(daemon.next().getType()).isEqualTo(FrameType.FRAME_TYPE_REGISTERED);

    String token = tokens.member(ws, "acct-browser");
    WebSocket page = browser(appOrigin(), offering(token));
    assertThat(page.subProtocol()).isEqualTo(RelayWire.BROWSER_PROTOCOL);
    assertThat(page.headers().getAll("sec-websocket-protocol")).noneMatch(p -> p.contains(token));
    byte[] hello = {1, 2, 3};
    page.writeBinaryMessage(
        io.vertx.core.buffer.Buffer.buffer(
            RelayFrame.newBuilder()
                .setType(FrameType.FRAME_TYPE_OPEN)
                .setWorkspaceId(ws.toString())
                .setTargetId(machine)
                .setChannelId(42)
                .setPayload(ByteString.copyFrom(hello))
                .build()
                .toByteArray()));
    RelayFrame open = daemon.next(FrameType.FRAME_TYPE_OPEN);
    assertThat(open.getChannelId()).isEqualTo(42);
    assertThat(open.getPayload().toByteArray()).isEqualTo(hello);
    daemon.close();
    assertThat(logText()).doesNotContain(token);
  }

  @Test
  void anUnauthenticatedSocketOrATokenFromAnotherOriginGetsNoWebSocketAndTheTokenIsNotLogged() {
    String token = tokens.member(ws, "acct-browser");
    double unauthenticated = relay.service().metrics().rejections(Reject.UNAUTHENTICATED);

    assertThat(refusal("https://evil.example", offering(token)))
        .as("another site's page holding a token")
        .isEqualTo(403);
    assertThat(refusal(null, offering(token)))
        .as("a token offered without an Origin")
        .isEqualTo(403);
    assertThat(refusal(appOrigin(), List.of(RelayWire.BROWSER_PROTOCOL)))
        .as("no token at all")
        .isEqualTo(401);
    assertThat(refusal(appOrigin(), offering("not-a-session-token")))
        .as("a token that does not verify")
        .isEqualTo(401);
    assertThat(refusal(appOrigin(), offering(tokens.member(UUID.randomUUID(), "x") + "x")))
        .as("a tampered token")
        .isEqualTo(401);
    assertThat(relay.service().metrics().rejections(Reject.UNAUTHENTICATED) - unauthenticated)
        .isEqualTo(5.0);
    assertThat(logText()).doesNotContain(token).doesNotContain("not-a-session-token");
  }

  private String logText() {
    StringBuilder all = new StringBuilder();
    for (ILoggingEvent e : logs.list) {
      all.append(e.getFormattedMessage()).append(' ').append(e.getMDCPropertyMap()).append('\n');
    }
    return all.toString();
  }
}
