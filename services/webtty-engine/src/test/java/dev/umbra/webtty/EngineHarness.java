package dev.umbra.webtty;

import com.google.protobuf.ByteString;
import dev.umbra.kit.auth.WebTtyTestTokens;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.KeyGrant;
import dev.umbra.proto.webtty.Sealed;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TerminalSize;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.webtty.wire.WebTtyWire;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Two real engine instances (separate buses, as separate processes would have) on one database and
 * one Redis prefix, and helpers that play a WebTTY server and clients with raw frames. Payloads are
 * sealed with plain JDK AES-GCM: the engine must route them without being able to read them.
 */
final class EngineHarness implements AutoCloseable {
  static final SecureRandom RANDOM = new SecureRandom();
  final Vertx vertx;
  final TestPostgres pg = TestPostgres.createDatabase();
  final String prefix = TestRedis.randomPrefix();
  final WebTtyTestTokens tokens = new WebTtyTestTokens();
  final List<Bus> buses = new ArrayList<>();
  final List<WebTtyService> engines = new ArrayList<>();
  final byte[] payloadKey = bytes(32);
  final ByteString payloadKeyId = ByteString.copyFrom(bytes(16));

  /** v2: stdin travels under the input key (another id than the output key). */
  final ByteString inputKeyId = ByteString.copyFrom(bytes(16));

  private long counter;
  final Path home;

  EngineHarness(Vertx vertx, int instances, Map<String, String> env) throws Exception {
    this(vertx, instances, env, Clock.systemUTC());
  }

  /** Every instance with {@code clock}. */
  EngineHarness(Vertx vertx, int instances, Map<String, String> env, Clock clock) throws Exception {
    this.vertx = vertx;
    home = Files.createTempDirectory("webtty-test");
    for (int i = 0; i < instances; i++) {
      Bus bus = RedisBus.create(vertx, TestRedis.url(), prefix);
      buses.add(bus);
      ServiceConfig cfg = TestServices.config(ServiceName.WEBTTY_ENGINE, pg, prefix, home, env);
      WebTtyService s =
          TestServices.deploy(vertx, cfg, bus, Metrics.newRegistry(), clock, WebTtyService::new)
              .toCompletionStage()
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      s.sessionVerifier().useKeys(tokens.keySet());
      engines.add(s);
    }
  }

  static byte[] bytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  int port(int i) {
    return engines.get(i).actualPort();
  }

  Peer server(int instance, UUID ws, String machineId, ServerPolicy policy) throws Exception {
    Peer p =
        Peer.connect(vertx, port(instance), WebTtyWire.SERVER_PATH, tokens.machine(ws, machineId));
    p.send(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTER)
            .setServerId(machineId)
            .setPolicy(policy)
            .build());
    p.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTERED);
    return p;
  }

  static ServerPolicy recorded() {
    return ServerPolicy.newBuilder()
        .setRecording(true)
        .setJoin(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS)
        .build();
  }

  Peer client(int instance, UUID ws, String subject, String role) throws Exception {
    return Peer.connect(
        vertx, port(instance), WebTtyWire.CLIENT_PATH, tokens.member(ws, subject, role));
  }

  static KeyGrant grant(ByteString recipient, ByteString payloadKeyId) {
    return grant(recipient, payloadKeyId, "output");
  }

  static KeyGrant grant(ByteString recipient, ByteString payloadKeyId, String role) {
    return KeyGrant.newBuilder()
        .setRecipientKeyId(recipient)
        .setKeyRole(role)
        .setPayloadSuite(WebTtyWire.PAYLOAD_SUITE)
        .setKeyEnvelopeSuite(WebTtyWire.KEY_ENVELOPE_SUITE)
        .setPayloadKeyId(payloadKeyId)
        .setEnc(ByteString.copyFrom(bytes(32)))
        .setCiphertext(ByteString.copyFrom(bytes(48)))
        .build();
  }

  static SignedMessage signed(String json) {
    return SignedMessage.newBuilder()
        .setCanonicalJson(ByteString.copyFromUtf8(json))
        .setSignature(ByteString.copyFrom(bytes(64)))
        .build();
  }

  /** Runs OPEN, SESSION_START, SERVER_HELLO, CLIENT_PROOF, READY; returns the session id. */
  String open(
      Peer server, Peer owner, String machineId, ByteString ownerKey, List<ByteString> recipients)
      throws Exception {
    return open(server, owner, machineId, ownerKey, recipients, sid -> {});
  }

  /**
   * Instance {@code i} dies: cut off the bus first (no goodbye of its participants reaches another
   * instance), then stopped.
   */
  void die(int i) throws Exception {
    buses.get(i).close();
    vertx
        .undeploy(engines.get(i).deploymentID())
        .toCompletionStage()
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
  }

  /** Waits until instance {@code i} has stored every recording event queued so far. */
  void drainRecordings(int i) throws Exception {
    engines
        .get(i)
        .recordingWriter()
        .drained()
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  /** What a test's server sends once it has the proof, before READY. */
  interface BeforeReady {
    void send(String sessionId) throws Exception;
  }

  /** As {@link #open}, with what the server sends once it has the proof, before READY. */
  String open(
      Peer server,
      Peer owner,
      String machineId,
      ByteString ownerKey,
      List<ByteString> recipients,
      BeforeReady beforeReady)
      throws Exception {
    owner.send(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN)
            .setServerId(machineId)
            .setSize(TerminalSize.newBuilder().setCols(80).setRows(24))
            .build());
    WebTtyFrame start = server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_SESSION_START);
    String sid = start.getSessionId();
    server.send(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_SERVER_HELLO)
            .setSessionId(sid)
            .setServerHello(signed("{\"hello\":1}"))
            .build());
    owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_SERVER_HELLO);
    WebTtyFrame.Builder proof =
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLIENT_PROOF)
            .setSessionId(sid)
            .setClientProof(signed("{\"proof\":1}"))
            .setKeyId(ownerKey)
            .setKeyContext(ByteString.copyFromUtf8("{\"recipients\":[]}"));
    for (ByteString r : recipients) {
      proof.addGrants(grant(r, payloadKeyId));
    }
    // v2: the input key, granted to the opener (and, in real life, the server)
    proof.addGrants(grant(ownerKey, inputKeyId, "input"));
    owner.send(proof.build());
    server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLIENT_PROOF);
    beforeReady.send(sid);
    server.send(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_READY)
            .setSessionId(sid)
            .build());
    owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_READY);
    return sid;
  }

  Sealed seal(String stream, byte[] plaintext) throws Exception {
    byte[] nonce = bytes(12);
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(
        Cipher.ENCRYPT_MODE,
        new SecretKeySpec(payloadKey, "AES"),
        new GCMParameterSpec(128, nonce));
    c.updateAAD(stream.getBytes(StandardCharsets.UTF_8));
    byte[] ct = c.doFinal(plaintext);
    return Sealed.newBuilder()
        .setPayloadSuite(WebTtyWire.PAYLOAD_SUITE)
        .setPayloadKeyId("stdin".equals(stream) ? inputKeyId : payloadKeyId)
        .setSenderKeyId(ByteString.copyFrom(new byte[16]))
        .setCounter(counter++)
        .setNonce(ByteString.copyFrom(nonce))
        .setCiphertext(ByteString.copyFrom(ct))
        .setPlaintextLength(plaintext.length)
        .build();
  }

  byte[] open(String stream, Sealed s) throws Exception {
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(
        Cipher.DECRYPT_MODE,
        new SecretKeySpec(payloadKey, "AES"),
        new GCMParameterSpec(128, s.getNonce().toByteArray()));
    c.updateAAD(stream.getBytes(StandardCharsets.UTF_8));
    return c.doFinal(s.getCiphertext().toByteArray());
  }

  /** Publishes revocation {@code r} on the bus of instance {@code i}, as the control plane does. */
  void publishRevocation(int i, dev.umbra.proto.bus.Revocation r) throws Exception {
    buses
        .get(i)
        .publish(
            dev.umbra.kit.revocation.RevocationChannel.CHANNEL,
            io.vertx.core.buffer.Buffer.buffer(r.toByteArray()))
        .toCompletionStage()
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
  }

  /** The server's EXIT of session {@code sid} with {@code status}. */
  WebTtyFrame exit(String sid, int status) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT)
        .setSessionId(sid)
        .setExitStatus(status)
        .build();
  }

  WebTtyFrame data(String sid, TtyStream stream, long seq, Sealed sealed) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA)
        .setSessionId(sid)
        .setStream(stream)
        .setSequence(seq)
        .setSealed(sealed)
        .build();
  }

  @Override
  public void close() {
    for (WebTtyService s : engines) {
      try {
        vertx
            .undeploy(s.deploymentID())
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        // best effort
      }
    }
    for (Bus b : buses) {
      b.close();
    }
    pg.close();
  }
}
