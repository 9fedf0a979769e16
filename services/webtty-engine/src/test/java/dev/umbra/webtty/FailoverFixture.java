package dev.umbra.webtty;

import com.google.protobuf.ByteString;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.Vertx;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the engine failover tests share (docs/webtty.md "Engine failover"): three instances over
 * real PostgreSQL and Redis; a session of one server opened by alice with bob granted too; an
 * instance that dies (off the bus first, so it says no goodbye, then stopped); the daemon's RESUME
 * on another instance; and the frames a failing-over client and daemon send. A test class registers
 * it ({@code @RegisterExtension}).
 */
final class FailoverFixture implements BeforeAllCallback, AfterAllCallback {
  static final HexFormat HEX = HexFormat.of();

  Vertx vertx;
  EngineHarness h;

  /** Three instances over real PostgreSQL and Redis, for the test class. */
  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    vertx = Vertx.vertx();
    h = new EngineHarness(vertx, 3, Map.of());
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    h.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A live session: its server on {@code serverAt}, opened by alice through {@code aliceAt}. */
  record Opened(
      UUID ws,
      String machine,
      ByteString aliceKey,
      ByteString bobKey,
      Peer server,
      Peer alice,
      String sid) {}

  /** What the daemon's RESUME on another instance gave: its new link, document and answer. */
  record Resumed(Peer server, String doc, WebTtyFrame resumed) {}

  /** Opens a recorded session (alice's and bob's keys granted) and stores its recording so far. */
  Opened open(int serverAt, int aliceAt) throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString aliceKey = ByteString.copyFrom(EngineHarness.bytes(16));
    ByteString bobKey = ByteString.copyFrom(EngineHarness.bytes(16));
    Peer server = h.server(serverAt, ws, machine, EngineHarness.recorded());
    Peer alice = h.client(aliceAt, ws, "alice", "member");
    String sid = h.open(server, alice, machine, aliceKey, List.of(aliceKey, bobKey));
    h.drainRecordings(serverAt);
    return new Opened(ws, machine, aliceKey, bobKey, server, alice, sid);
  }

  /** Instance {@code i} dies: cut off the bus first (no goodbye gets out), then stopped. */
  void kill(int i) throws Exception {
    h.die(i);
  }

  /**
   * The daemon reconnects to instance {@code at} and resumes the session there (epoch 1, alice's
   * key in control); returns once RESUMED came back.
   */
  Resumed resumeAt(int at, Opened o) throws Exception {
    Peer server = h.server(at, o.ws(), o.machine(), EngineHarness.recorded());
    String doc = resume(h, o.ws(), o.machine(), o.sid(), 1, o.aliceKey());
    server.send(resumeFrame(o.sid(), doc));
    return new Resumed(server, doc, server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED));
  }

  /** A resume document for the keys of harness {@code h}. */
  static String resume(
      EngineHarness h, UUID ws, String machine, String sid, long epoch, ByteString controller) {
    return "{"
        + (controller == null ? "" : "\"controller_key_id\":\"" + hex(controller) + "\",")
        + "\"epoch\":"
        + epoch
        + ",\"input_counter\":3,"
        + (controller == null ? "" : "\"input_key_id\":\"" + hex(h.inputKeyId) + "\",")
        + "\"output_counter\":7,\"output_epoch\":0,\"output_key_id\":\""
        + hex(h.payloadKeyId)
        + "\",\"server_id\":\""
        + machine
        + "\",\"session_id\":\""
        + sid
        + "\",\"time_ms\":1,\"type\":\"umbra-webtty-resume/v1\",\"workspace_id\":\""
        + ws
        + "\"}";
  }

  static String hex(ByteString b) {
    return HEX.formatHex(b.toByteArray());
  }

  static WebTtyFrame resumeFrame(String sid, String json) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUME)
        .setSessionId(sid)
        .setSequence(2)
        .setResume(EngineHarness.signed(json))
        .build();
  }

  /** The reason of the REFUSED a server's RESUME gets. */
  static String refusal(Peer server, WebTtyFrame resume) throws Exception {
    server.send(resume);
    return server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason();
  }

  /** A failing-over client's re-join: JOIN or ATTACH naming the last output it saw. */
  static WebTtyFrame rejoin(String sid, ByteString key, boolean attach, long seen) {
    return join(sid, key, attach).toBuilder().setSequence(seen).build();
  }

  /**
   * A failing-over client's ATTACH attempt stamped {@code stamp} (docs/webtty.md "A late attempt").
   */
  static WebTtyFrame attempt(String sid, ByteString key, long stamp) {
    return rejoin(sid, key, true, 4).toBuilder().setTimeUnixMs(stamp).build();
  }

  static WebTtyFrame join(String sid, ByteString key, boolean attach) {
    return WebTtyFrame.newBuilder()
        .setType(
            attach
                ? WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH
                : WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN)
        .setSessionId(sid)
        .setKeyId(key)
        .build();
  }
}
