package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.messaging.BrowserBearer;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The browser app's messaging socket (docs/web.md "Messaging"): a page cannot set {@code
 * Authorization} on a WebSocket, so it offers its session token as a subprotocol; the control plane
 * takes it only from its own public origin, selects {@code umbra.messages.v1} (the token is never
 * echoed), and refuses a token offered from any other origin, or none, before upgrading.
 */
@ExtendWith(VertxExtension.class)
class BrowserMessagingSocketTest {
  // Vert.x closes a client that has become unreachable (a Cleaner): an inline
  // createWebSocketClient() could be collected mid-handshake ("Connection closed while handshake
  // in process") or under an open socket, so every client a test opens stays referenced here.
  private final java.util.List<WebSocketClient> clients = new java.util.ArrayList<>();

  static final String PUBLIC = "https://umbra.example.test";
  Harness a;
  MessagingFixture.Scene scene;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a = new Harness(vertx, Map.of("UMBRA_CONTROL_PLANE_URL", PUBLIC));
    scene = MessagingFixture.scene(a, "claude");
  }

  @AfterEach
  void stop() throws Exception {
    a.close();
  }

  WebSocket connect(Vertx vertx, String origin, String token) throws Exception {
    WebSocketConnectOptions o =
        new WebSocketConnectOptions()
            .setHost("127.0.0.1")
            .setPort(a.service.actualPort())
            .setURI("/v1/workspaces/" + scene.owner().workspaceId() + "/messages/live")
            // the client's own Origin only when none is given (a given one is kept as it is)
            .setAllowOriginHeader(origin != null)
            .setSubProtocols(List.of(BrowserBearer.PROTOCOL, BrowserBearer.TOKEN_PROTOCOL + token));
    if (origin != null) {
      o.addHeader("Origin", origin);
    }
    WebSocketClient client = vertx.createWebSocketClient();
    clients.add(client);
    return client.connect(o).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  int refusal(Vertx vertx, String origin, String token) {
    try {
      connect(vertx, origin, token).close();
      return 101;
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(UpgradeRejectedException.class);
      return ((UpgradeRejectedException) e.getCause()).getStatus();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void thePagesOriginGetsItsSocketWithTheTokenInASubprotocolAndTheTokenIsNotEchoed(Vertx vertx)
      throws Exception {
    WebSocket ws = connect(vertx, PUBLIC, scene.device().session());
    ConcurrentLinkedQueue<JsonObject> frames = new ConcurrentLinkedQueue<>();
    ws.textMessageHandler(t -> frames.add(new JsonObject(t)));
    assertThat(ws.subProtocol()).isEqualTo(BrowserBearer.PROTOCOL);
    ws.writeTextMessage(new JsonObject().put("type", "ping").encode());
    Eventually.await(
        "answered",
        Duration.ofSeconds(20),
        () -> frames.stream().anyMatch(f -> "pong".equals(f.getString("type"))));
    ws.close();
  }

  @Test
  void aTokenOfferedFromAnotherOriginOrWithoutOneIsRefusedBeforeTheUpgrade(Vertx vertx) {
    String token = scene.device().session();
    assertThat(refusal(vertx, "https://evil.example.test", token)).isEqualTo(403);
    assertThat(refusal(vertx, "http://umbra.example.test", token)).isEqualTo(403);
    assertThat(refusal(vertx, null, token)).isEqualTo(403);
  }

  @Test
  void anInvalidTokenFromThePagesOriginIsRefused(Vertx vertx) {
    assertThat(refusal(vertx, PUBLIC, "not-a-session-token")).isEqualTo(401);
  }
}
