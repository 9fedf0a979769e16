package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.client.http.ClientTls;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.daemon.tty.AuthorizedKeys;
import dev.umbra.daemon.tty.TtyServer;
import dev.umbra.kit.auth.WebTtyTestTokens;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.webtty.WebTtyService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * WebTTY end to end on a real PTY: the daemon's TtyServer on engine instance 0, clients on
 * instances 0 and 1, real umbra-crypto keys, real PostgreSQL and Redis.
 */
class TtyEndToEndTest {
  static Vertx vertx;
  static TestPostgres pg;
  static final List<Bus> buses = new ArrayList<>();
  static final List<WebTtyService> engines = new ArrayList<>();
  static final WebTtyTestTokens tokens = new WebTtyTestTokens();
  static final UUID ws = UUID.randomUUID();
  static final String machine = "m-" + UUID.randomUUID();
  static final Ed25519KeyPair serverSign = Ed25519KeyPair.generate();
  static final X25519KeyPair serverKx = X25519KeyPair.generate();
  static final Ed25519KeyPair aliceSign = Ed25519KeyPair.generate();
  static final X25519KeyPair aliceKx = X25519KeyPair.generate();
  static final Ed25519KeyPair bobSign = Ed25519KeyPair.generate();
  static final X25519KeyPair bobKx = X25519KeyPair.generate();
  static Path home;
  static AuthorizedKeys authorized;
  static TtyServer server;

  /** A second machine whose daemon reaches engine 0 through {@link HostileEngine}. */
  static final String machine2 = "m2-" + UUID.randomUUID();

  static HostileEngine hostile;
  static TtyServer server2;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    pg = TestPostgres.createDatabase();
    home = Files.createTempDirectory("tty-e2e");
    String prefix = TestRedis.randomPrefix();
    for (int i = 0; i < 2; i++) {
      Bus bus = RedisBus.create(vertx, TestRedis.url(), prefix);
      buses.add(bus);
      WebTtyService s =
          TestServices.deploy(
                  vertx,
                  TestServices.config(ServiceName.WEBTTY_ENGINE, pg, prefix, home, Map.of()),
                  bus,
                  Metrics.newRegistry(),
                  Clock.systemUTC(),
                  WebTtyService::new)
              .toCompletionStage()
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      s.sessionVerifier().useKeys(tokens.keySet());
      engines.add(s);
    }
    authorized = new AuthorizedKeys(home.resolve("daemon"));
    authorized.add(aliceSign.publicKey(), "alice laptop");
    authorized.add(bobSign.publicKey(), "bob laptop");
    server =
        new TtyServer(
            vertx,
            TestShell.config(
                engine(0),
                ws,
                machine,
                () -> Future.succeededFuture(tokens.machine(ws, machine)),
                serverSign,
                serverKx,
                authorized,
                home),
            dev.umbra.client.http.ClientTls.system());
    server.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    hostile = HostileEngine.start(vertx, engine(0));
    server2 =
        new TtyServer(
            vertx,
            TestShell.config(
                hostile.url(),
                ws,
                machine2,
                () -> Future.succeededFuture(tokens.machine(ws, machine2)),
                Ed25519KeyPair.generate(),
                X25519KeyPair.generate(),
                authorized,
                home),
            dev.umbra.client.http.ClientTls.system());
    server2.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    server2.close();
    hostile.close();
    for (WebTtyService s : engines) {
      vertx
          .undeploy(s.deploymentID())
          .toCompletionStage()
          .toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
    }
    for (Bus b : buses) {
      b.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    pg.close();
  }

  static URI engine(int i) {
    return URI.create("http://127.0.0.1:" + engines.get(i).actualPort());
  }

  static TtyClient.Options options(
      int instance,
      String subject,
      Ed25519KeyPair sign,
      X25519KeyPair kx,
      Path pins,
      List<X25519PublicKey> extra,
      Clock clock) {
    Supplier<Future<String>> t = () -> Future.succeededFuture(tokens.member(ws, subject, "member"));
    return new TtyClient.Options(
        engine(instance), ws, t, sign, kx, ServerTrust.pinned(pins), extra, clock);
  }

  /** Collects what a client sees. */
  /** A screen whose failed waits also show both daemons' and both engines' counters. */
  static TtyScreen screen() {
    return new TtyScreen(
        () ->
            "; server "
                + server.stats().snapshot()
                + "; server2 "
                + server2.stats().snapshot()
                + "; engine stdin "
                + engines.get(0).metrics().count("frames_forwarded", "type", "stdin")
                + "/"
                + engines.get(1).metrics().count("frames_forwarded", "type", "stdin"));
  }

  static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  @Test
  void aShellRunsEndToEndWithResizeAlternateScreenViewerControlReplayAndExitStatus()
      throws Exception {
    Path pins = home.resolve("alice-pins");
    TtyScreen alice = screen();
    TtyClient owner =
        get(
            TtyClient.open(
                vertx,
                options(
                    0,
                    "alice",
                    aliceSign,
                    aliceKx,
                    pins,
                    List.of(bobKx.publicKey()),
                    Clock.systemUTC()),
                ClientTls.system(),
                machine,
                80,
                24,
                "xterm-256color",
                alice));
    assertThat(owner.endToEnd()).isTrue();

    owner.send("echo hi-$((40+2))\n".getBytes());
    alice.await("hi-42");

    owner.send("stty size\n".getBytes());
    alice.await("24 80");
    owner.resize(100, 30);
    // the resize reaches the PTY on its own path: ask the shell again until it sees the new size
    AtomicInteger sizeAsked = new AtomicInteger(1000);
    Eventually.await(
        "the shell sees 30 rows and 100 columns",
        Duration.ofSeconds(10),
        () -> {
          int from = alice.text().length();
          int mark = sizeAsked.incrementAndGet();
          owner.send(("stty size; echo asked-$((" + mark + "+0))\n").getBytes());
          alice.await("asked-" + mark);
          return alice.text().substring(from).contains("30 100");
        });

    owner.send("tput smcup; echo in-alt-$((1+1)); tput rmcup\n".getBytes());
    alice.await("in-alt-2");
    alice.await("\u001b[?1049l");
    assertThat(alice.text()).contains("\u001b[?1049h");

    // a viewer on the other instance gets the same bytes; its keystrokes are refused
    TtyScreen bob = screen();
    TtyClient viewer =
        get(
            TtyClient.join(
                vertx,
                options(
                    1,
                    "bob",
                    bobSign,
                    bobKx,
                    home.resolve("bob-pins"),
                    List.of(),
                    Clock.systemUTC()),
                ClientTls.system(),
                owner.sessionId(),
                false,
                bob));
    owner.send("echo viewer-sees-$((6*7))\n".getBytes());
    bob.await("viewer-sees-42");
    viewer.send("echo not-from-a-viewer\n".getBytes());
    assertThat(bob.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("not_controller");

    // control handed over and back
    viewer.requestControl();
    WebTtyFrame asked = alice.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST);
    owner.giveControl(asked.getParticipantId());
    bob.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);
    viewer.send("echo typed-by-$((1+1))-bob\n".getBytes());
    alice.await("typed-by-2-bob");
    owner.takeControl();
    bob.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);
    viewer.send("echo bob-again\n".getBytes());
    assertThat(bob.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("not_controller");

    owner.send("exit 7\n".getBytes());
    try {
      assertThat(alice.exit.get(10, TimeUnit.SECONDS)).isEqualTo(7);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(
          "no exit; alice "
              + owner.stats().snapshot()
              + " "
              + alice.events
              + "; server "
              + server.stats().snapshot(),
          e);
    }
    assertThat(bob.exit.get(10, TimeUnit.SECONDS)).isEqualTo(7);
    assertThat(alice.text()).doesNotContain("not-from-a-viewer").doesNotContain("bob-again");
    // the viewer saw exactly the controller's bytes from the moment it joined
    byte[] a = alice.bytes();
    byte[] b = bob.bytes();
    assertThat(b.length).isPositive();
    assertThat(java.util.Arrays.copyOfRange(a, a.length - b.length, a.length)).isEqualTo(b);

    // the recording decrypts, on the member's side, to exactly what the controller saw
    get(engines.get(0).recordingWriter().drained());
    byte[] recording =
        RecordingDownload.export(
            engine(1),
            owner.sessionId(),
            tokens.member(ws, "alice", "member"),
            RecordingDownload.MAX_BYTES);
    var chunks = RecordingDecryptor.decrypt(new ByteArrayInputStream(recording), ws, aliceKx, true);
    ByteArrayOutputStream replayed = new ByteArrayOutputStream();
    StringBuilder stdin = new StringBuilder();
    for (var c : chunks) {
      if (c.kind() == RecordedKind.RECORDED_KIND_DATA
          && c.stream() == TtyStream.TTY_STREAM_STDOUT) {
        replayed.writeBytes(c.bytes());
      } else if (c.kind() == RecordedKind.RECORDED_KIND_DATA) {
        stdin.append(new String(c.bytes(), StandardCharsets.UTF_8));
      }
    }
    assertThat(replayed.toByteArray()).isEqualTo(a);
    // split keys: the opener reads what it typed under its own input keys, not what bob typed
    // under the key the daemon gave him; nothing is missing or repeated in an honest session
    assertThat(stdin.toString())
        .contains("stty size")
        .contains("exit 7")
        .doesNotContain("typed-by")
        .doesNotContain("not-from-a-viewer");
    assertThat(chunks)
        .filteredOn(RecordingDecryptor.Chunk::isNote)
        .extracting(RecordingDecryptor.Chunk::note)
        .singleElement()
        .asString()
        .contains("not readable with this device's keys");
    assertThat(chunks.get(chunks.size() - 1).exitStatus()).isEqualTo(7);
    // bob holds an output grant too: he reads the output, and the stdin of his own turn only
    var bobs = RecordingDecryptor.decrypt(new ByteArrayInputStream(recording), ws, bobKx, true);
    StringBuilder bobOut = new StringBuilder();
    StringBuilder bobIn = new StringBuilder();
    for (var c : bobs) {
      if (c.kind() == RecordedKind.RECORDED_KIND_DATA) {
        (c.stream() == TtyStream.TTY_STREAM_STDIN ? bobIn : bobOut)
            .append(new String(c.bytes(), StandardCharsets.UTF_8));
      }
    }
    assertThat(bobOut.toString()).contains("viewer-sees-42");
    assertThat(bobIn.toString())
        .contains("typed-by")
        .doesNotContain("stty size")
        .doesNotContain("exit 7");
    assertThat(bobs)
        .filteredOn(RecordingDecryptor.Chunk::isNote)
        .extracting(RecordingDecryptor.Chunk::note)
        .allMatch(n -> n.contains("not readable with this device's keys"))
        .hasSizeGreaterThanOrEqualTo(2);
    // the daemon's side holds every input key (it made them): all the typed input, nothing
    // unreadable
    var daemons =
        RecordingDecryptor.decrypt(new ByteArrayInputStream(recording), ws, serverKx, true);
    StringBuilder all = new StringBuilder();
    for (var c : daemons) {
      if (c.kind() == RecordedKind.RECORDED_KIND_DATA && c.stream() == TtyStream.TTY_STREAM_STDIN) {
        all.append(new String(c.bytes(), StandardCharsets.UTF_8));
      }
    }
    assertThat(all.toString()).contains("stty size").contains("typed-by").contains("exit 7");
    assertThat(daemons).noneMatch(RecordingDecryptor.Chunk::isNote);
    assertThatThrownBy(
            () ->
                RecordingDecryptor.decrypt(
                    new ByteArrayInputStream(recording), ws, X25519KeyPair.generate(), false))
        .isInstanceOf(dev.umbra.crypto.CryptoException.class);
  }

  @Test
  void theOpenerDetachesAndReattachesToTheSameShell() throws Exception {
    Path pins = home.resolve("alice-pins-2");
    TtyScreen first = screen();
    TtyClient c =
        get(
            TtyClient.open(
                vertx,
                options(1, "alice", aliceSign, aliceKx, pins, List.of(), Clock.systemUTC()),
                ClientTls.system(),
                machine,
                80,
                24,
                "xterm",
                first));
    c.send("X=kept-$((2+3)); echo set-$((1+1))\n".getBytes());
    first.await("set-2"); // the shell has run the line before the opener detaches
    c.detach();
    first.closed.get(5, TimeUnit.SECONDS);
    TtyScreen second = screen();
    TtyClient again =
        get(
            TtyClient.join(
                vertx,
                options(0, "alice", aliceSign, aliceKx, pins, List.of(), Clock.systemUTC()),
                ClientTls.system(),
                c.sessionId(),
                true,
                second));
    // control comes back with an input key the daemon grants after the join: stdin sent before
    // it is refused (not_controller), which a loaded machine made visible
    Eventually.await(
        "the re-attached opener holds control", Duration.ofSeconds(15), again::hasControl);
    again.send("echo $X\n".getBytes());
    second.await("kept-5");
    again.send("exit 0\n".getBytes());
    assertThat(second.exit.get(10, TimeUnit.SECONDS)).isZero();
  }

  @Test
  void theServerRefusesAProofFromAnUnauthorizedKeyOrAnExpiredOne() throws Exception {
    long before = server.stats().get("proof_refused");
    TtyScreen s = screen();
    Future<TtyClient> f =
        TtyClient.open(
            vertx,
            options(
                0,
                "mallory",
                Ed25519KeyPair.generate(),
                X25519KeyPair.generate(),
                home.resolve("m-pins"),
                List.of(),
                Clock.systemUTC()),
            ClientTls.system(),
            machine,
            80,
            24,
            "xterm",
            s);
    assertThatThrownBy(() -> get(f)).hasMessageContaining("proof_refused_unauthorized_key");
    assertThat(s.text()).isEmpty();

    TtyScreen late = screen();
    Clock past = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-2));
    Future<TtyClient> g =
        TtyClient.open(
            vertx,
            options(0, "alice", aliceSign, aliceKx, home.resolve("p-pins"), List.of(), past),
            ClientTls.system(),
            machine,
            80,
            24,
            "xterm",
            late);
    assertThatThrownBy(() -> get(g)).hasMessageContaining("proof_refused_expired");
    assertThat(server.stats().get("proof_refused")).isEqualTo(before + 2);
  }

  @Test
  void stdinWithABadTagIsDroppedAndEndsTheSession() throws Exception {
    TtyScreen s = screen();
    TtyClient c =
        get(
            TtyClient.open(
                vertx,
                options(
                    0,
                    "alice",
                    aliceSign,
                    aliceKx,
                    home.resolve("tag-pins"),
                    List.of(),
                    Clock.systemUTC()),
                ClientTls.system(),
                machine,
                80,
                24,
                "xterm",
                s));
    long before = server.stats().get("stdin_rejected");
    c.sendTampered(
        "echo never-$((2*21))\n".getBytes(),
        f -> {
          byte[] ct = f.getSealed().getCiphertext().toByteArray();
          ct[ct.length - 1] ^= 1;
          return f.toBuilder()
              .setSealed(
                  f.getSealed().toBuilder()
                      .setCiphertext(com.google.protobuf.ByteString.copyFrom(ct)))
              .build();
        });
    assertThat(s.closed.get(10, TimeUnit.SECONDS)).isEqualTo("bad_frame");
    assertThat(server.stats().get("stdin_rejected")).isEqualTo(before + 1);
    assertThat(s.text()).doesNotContain("never-42");
  }

  @Test
  void theClientRefusesAServerWhoseKeyChangedSincePinned() throws Exception {
    Path pins = home.resolve("changed-pins");
    Files.createDirectories(pins.resolve(ws.toString()));
    Files.writeString(
        pins.resolve(ws.toString()).resolve(machine),
        Ed25519KeyPair.generate().publicKey().toHex()
            + " "
            + X25519KeyPair.generate().publicKey().toHex()
            + "\n");
    TtyScreen s = screen();
    Future<TtyClient> f =
        TtyClient.open(
            vertx,
            options(0, "alice", aliceSign, aliceKx, pins, List.of(), Clock.systemUTC()),
            ClientTls.system(),
            machine,
            80,
            24,
            "xterm",
            s);
    assertThatThrownBy(() -> get(f)).hasMessageContaining("authentication_failed");
    assertThat(s.text()).isEmpty();
  }

  // ---------------------------------------------------------------- a hostile engine in the path
  // (issue 14)

  static boolean isStdin(WebTtyFrame f) {
    return f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA
        && f.getStream() == TtyStream.TTY_STREAM_STDIN;
  }

  static boolean isOutput(WebTtyFrame f) {
    return f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA
        && f.getStream() != TtyStream.TTY_STREAM_STDIN;
  }

  static TtyClient openOnHostile(String pins, TtyScreen s, List<X25519PublicKey> extra)
      throws Exception {
    return get(
        TtyClient.open(
            vertx,
            options(0, "alice", aliceSign, aliceKx, home.resolve(pins), extra, Clock.systemUTC()),
            ClientTls.system(),
            machine2,
            80,
            24,
            "xterm",
            s));
  }

  static WebTtyFrame stdinFrame(String session, dev.umbra.crypto.webtty.SealedPayload p) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA)
        .setSessionId(session)
        .setStream(TtyStream.TTY_STREAM_STDIN)
        .setSequence(1_000_000)
        .setSealed(TtyFrames.toProto(p))
        .build();
  }

  @Test
  void aReplayedStdinFrameIsRefusedByTheDaemonAndItsCommandRunsOnce() throws Exception {
    Path side = home.resolve("replayed-" + UUID.randomUUID());
    TtyScreen s = screen();
    TtyClient c = openOnHostile("hostile-pins-1", s, List.of());
    long before = server2.stats().get("input_refused_replayed");
    // every keystroke frame towards the daemon goes twice, the copy under a new engine sequence
    hostile.tamper =
        (leg, f) ->
            leg == HostileEngine.Leg.FROM_ENGINE && isStdin(f)
                ? List.of(f, f.toBuilder().setSequence(f.getSequence() + 1000).build())
                : List.of(f);
    try {
      c.send(("echo ran >> " + side + "\n").getBytes());
      c.send("echo done-$((1+1))\n".getBytes());
      s.await("done-2");
    } finally {
      hostile.tamper = HostileEngine.HONEST;
    }
    assertThat(Files.readAllLines(side)).containsExactly("ran");
    assertThat(server2.stats().get("input_refused_replayed")).isEqualTo(before + 2);
    // relabelled to the next counter, a copy no longer authenticates: dropped, the session ends.
    // The
    // copy goes in once the original has run (sent right behind it, the session could end before
    // the shell got to the original, which would say nothing about the copy)
    List<WebTtyFrame> passed = new java.util.concurrent.CopyOnWriteArrayList<>();
    hostile.tamper =
        (leg, f) -> {
          if (leg == HostileEngine.Leg.FROM_ENGINE && isStdin(f)) {
            passed.add(f);
          }
          return List.of(f);
        };
    try {
      c.send(("echo again >> " + side + "\n").getBytes());
      awaitLines(side, 2);
    } finally {
      hostile.tamper = HostileEngine.HONEST;
    }
    WebTtyFrame original = passed.get(passed.size() - 1);
    hostile.inject(
        original.toBuilder()
            .setSequence(original.getSequence() + 1000)
            .setSealed(
                original.getSealed().toBuilder().setCounter(original.getSealed().getCounter() + 1))
            .build());
    assertThat(s.closed.get(10, TimeUnit.SECONDS)).isEqualTo("bad_frame");
    // the original ran once; its relabelled copy did not
    assertThat(Files.readAllLines(side)).containsExactly("ran", "again");
  }

  /**
   * Waits (at most 10 s) until {@code file} has {@code n} lines: a command typed into the shell
   * ran.
   */
  /**
   * The recording of {@code session} decrypted with {@code me}'s key: rendered stdout, and the
   * notes.
   */
  static List<RecordingDecryptor.Chunk> export(String session, X25519KeyPair me) throws Exception {
    get(engines.get(0).recordingWriter().drained());
    byte[] recording =
        RecordingDownload.export(
            engine(1), session, tokens.member(ws, "alice", "member"), RecordingDownload.MAX_BYTES);
    return RecordingDecryptor.decrypt(new ByteArrayInputStream(recording), ws, me, false);
  }

  static String stdout(List<RecordingDecryptor.Chunk> chunks) {
    StringBuilder b = new StringBuilder();
    for (var c : chunks) {
      if (c.kind() == RecordedKind.RECORDED_KIND_DATA) {
        b.append(new String(c.bytes(), StandardCharsets.UTF_8));
      }
    }
    return b.toString();
  }

  @Test
  void theOpenerSharesALiveSessionWithADeviceThatThenJoinsAndReadsOnlyWhatFollowsTheShare()
      throws Exception {
    X25519KeyPair carolKx = X25519KeyPair.generate();
    Ed25519KeyPair carolSign = Ed25519KeyPair.generate();
    TtyScreen alice = screen();
    TtyClient owner =
        get(
            TtyClient.open(
                vertx,
                options(
                    0,
                    "alice",
                    aliceSign,
                    aliceKx,
                    home.resolve("share-alice-pins"),
                    List.of(bobKx.publicKey()),
                    Clock.systemUTC()),
                ClientTls.system(),
                machine,
                80,
                24,
                "xterm-256color",
                alice));
    owner.send("echo before-$((1+1))-share\n".getBytes());
    alice.await("before-2-share");

    // carol's key is not a recipient: her JOIN is refused no_grant
    TtyScreen refused = screen();
    assertThatThrownBy(
            () ->
                get(
                    TtyClient.join(
                        vertx,
                        options(
                            1,
                            "carol",
                            carolSign,
                            carolKx,
                            home.resolve("share-carol-pins"),
                            List.of(),
                            Clock.systemUTC()),
                        ClientTls.system(),
                        owner.sessionId(),
                        false,
                        refused)))
        .hasRootCauseMessage("WebTTY session refused: no_grant");

    // a viewer cannot share (the engine refuses), and a controller who is not the opener cannot
    // either (the daemon)
    TtyScreen bob = screen();
    TtyClient viewer =
        get(
            TtyClient.join(
                vertx,
                options(
                    1,
                    "bob",
                    bobSign,
                    bobKx,
                    home.resolve("share-bob-pins"),
                    List.of(),
                    Clock.systemUTC()),
                ClientTls.system(),
                owner.sessionId(),
                false,
                bob));
    long now = System.currentTimeMillis();
    List<X25519PublicKey> withCarol =
        List.of(aliceKx.publicKey(), bobKx.publicKey(), carolKx.publicKey());
    viewer.shareSigned(
        Handshake.sign(
            new Handshake.ShareRequest(
                ws.toString(), machine, owner.sessionId(), withCarol, List.of(), now, now + 30_000),
            bobSign));
    assertThat(bob.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("share_refused_not_controller");
    viewer.requestControl();
    owner.giveControl(
        alice.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST).getParticipantId());
    bob.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);
    viewer.shareSigned(
        Handshake.sign(
            new Handshake.ShareRequest(
                ws.toString(), machine, owner.sessionId(), withCarol, List.of(), now, now + 30_000),
            bobSign));
    assertThat(bob.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("share_refused_not_opener");
    owner.takeControl();
    alice.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);

    // the opener shares: every participant switches to output-key epoch 1
    var request =
        Handshake.sign(
            new Handshake.ShareRequest(
                ws.toString(),
                machine,
                owner.sessionId(),
                withCarol,
                List.of(),
                now + 1,
                now + 30_000),
            aliceSign);
    owner.shareSigned(request);
    alice.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY);
    bob.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY);
    // the same request again is a replay
    owner.shareSigned(request);
    assertThat(alice.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("share_refused_replayed");

    TtyScreen carol = screen();
    get(
        TtyClient.join(
            vertx,
            options(
                1,
                "carol",
                carolSign,
                carolKx,
                home.resolve("share-carol-pins"),
                List.of(),
                Clock.systemUTC()),
            ClientTls.system(),
            owner.sessionId(),
            false,
            carol));
    owner.send("echo after-$((2+2))-share\n".getBytes());
    carol.await("after-4-share");
    alice.await("after-4-share");
    bob.await("after-4-share");
    assertThat(carol.text()).doesNotContain("before-2-share");
    assertThat(owner.stats().snapshot()).containsEntry("output_keys_received", 1L);
    assertThat(alice.integrity).isEmpty();
    assertThat(bob.integrity).isEmpty();

    owner.send("exit 3\n".getBytes());
    assertThat(carol.exit.get(10, TimeUnit.SECONDS)).isEqualTo(3);
    // the export: carol reads from the share on, never before; alice reads both, nothing missing
    var carols = export(owner.sessionId(), carolKx);
    assertThat(stdout(carols)).contains("after-4-share").doesNotContain("before-2-share");
    assertThat(carols)
        .filteredOn(RecordingDecryptor.Chunk::isNote)
        .extracting(RecordingDecryptor.Chunk::note)
        .anyMatch(n -> n.contains("it was added to the session later"))
        .noneMatch(n -> n.contains("missing"));
    var alices = export(owner.sessionId(), aliceKx);
    assertThat(stdout(alices)).contains("before-2-share").contains("after-4-share");
    assertThat(alices)
        .filteredOn(RecordingDecryptor.Chunk::isNote)
        .extracting(RecordingDecryptor.Chunk::note)
        .allMatch(n -> n.startsWith("output-key epoch 1"));
  }

  @Test
  void aReplayedOutputKeyDocumentIsIgnoredAndAForgedOneClosesTheClient() throws Exception {
    TtyScreen alice = screen();
    TtyClient owner =
        get(
            TtyClient.open(
                vertx,
                options(
                    0,
                    "alice",
                    aliceSign,
                    aliceKx,
                    home.resolve("okr-alice-pins"),
                    List.of(bobKx.publicKey()),
                    Clock.systemUTC()),
                ClientTls.system(),
                machine2,
                80,
                24,
                "xterm-256color",
                alice));
    TtyScreen bob = screen();
    get(
        TtyClient.join(
            vertx,
            options(
                1,
                "bob",
                bobSign,
                bobKx,
                home.resolve("okr-bob-pins"),
                List.of(),
                Clock.systemUTC()),
            ClientTls.system(),
            owner.sessionId(),
            false,
            bob));
    try {
      // the engine passes the daemon's OUTPUT_KEY on twice: the second is a replay, ignored and
      // counted
      hostile.tamper =
          (leg, f) ->
              leg == HostileEngine.Leg.TO_ENGINE
                      && f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY
                  ? List.of(f, f)
                  : List.of(f);
      owner.share(List.of(X25519KeyPair.generate().publicKey()), List.of());
      alice.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY);
      bob.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY);
      owner.send("echo still-$((3*3))-here\n".getBytes());
      alice.await("still-9-here");
      bob.await("still-9-here");
      assertThat(alice.integrity).containsExactly("output_key_replayed:1");
      assertThat(bob.integrity).containsExactly("output_key_replayed:1");

      // a document the pinned server key did not sign (the engine's own epoch 2): the clients close
      Ed25519KeyPair engineKey = Ed25519KeyPair.generate();
      hostile.tamper =
          (leg, f) -> {
            if (leg != HostileEngine.Leg.TO_ENGINE
                || f.getType() != WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY) {
              return List.of(f);
            }
            byte[] json = f.getOutputKeyEpoch().getCanonicalJson().toByteArray();
            return List.of(
                f.toBuilder()
                    .setOutputKeyEpoch(
                        f.getOutputKeyEpoch().toBuilder()
                            .setSignature(
                                com.google.protobuf.ByteString.copyFrom(
                                    engineKey.privateKey().sign(json))))
                    .build());
          };
      owner.share(List.of(X25519KeyPair.generate().publicKey()), List.of());
      assertThat(alice.closed.get(10, TimeUnit.SECONDS)).isEqualTo("output_key_refused");
      assertThat(bob.closed.get(10, TimeUnit.SECONDS)).isEqualTo("output_key_refused");
      assertThat(owner.stats().snapshot()).containsEntry("output_key_refused", 1L);
    } finally {
      hostile.tamper = HostileEngine.HONEST;
    }
  }

  static void awaitLines(Path file, int n) throws Exception {
    Eventually.await(
        file + " reaches " + n + " lines",
        Duration.ofSeconds(10),
        () -> Files.exists(file) && Files.readAllLines(file).size() >= n);
  }

  @Test
  void aDroppedOrReorderedStdinFrameEndsTheSessionBeforeAnythingAfterItRuns() throws Exception {
    for (String how : List.of("drop", "reorder")) {
      Path side = home.resolve(how + "-" + UUID.randomUUID());
      TtyScreen s = screen();
      TtyClient c = openOnHostile("hostile-pins-" + how, s, List.of());
      c.send("echo ready-$((1+1))\n".getBytes());
      s.await("ready-2");
      long gaps = server2.stats().get("input_gap");
      java.util.concurrent.atomic.AtomicReference<WebTtyFrame> held =
          new java.util.concurrent.atomic.AtomicReference<>();
      java.util.concurrent.atomic.AtomicInteger seen =
          new java.util.concurrent.atomic.AtomicInteger();
      hostile.tamper =
          (leg, f) -> {
            if (leg != HostileEngine.Leg.FROM_ENGINE || !isStdin(f)) {
              return List.of(f);
            }
            int n = seen.getAndIncrement();
            if (n == 0) {
              held.set(f); // withheld: dropped, or delivered after the next one
              return List.of();
            }
            return n == 1 && how.equals("reorder") ? List.of(f, held.get()) : List.of(f);
          };
      try {
        c.send("echo first\n".getBytes());
        c.send(("echo ran >> " + side + "\n").getBytes());
        assertThat(s.closed.get(10, TimeUnit.SECONDS)).as(how).isEqualTo("input_gap");
      } finally {
        hostile.tamper = HostileEngine.HONEST;
      }
      assertThat(side).as(how).doesNotExist();
      assertThat(server2.stats().get("input_gap")).as(how).isEqualTo(gaps + 1);
    }
  }

  @Test
  void aDroppedOrRepeatedOutputFrameIsReportedByTheClientAndTheExportAndNeverRendered()
      throws Exception {
    TtyScreen s = screen();
    TtyClient c = openOnHostile("hostile-pins-out", s, List.of());
    c.send("echo warm-$((1+1))\n".getBytes());
    s.await("warm-2");
    java.util.concurrent.atomic.AtomicInteger drop =
        new java.util.concurrent.atomic.AtomicInteger(1);
    java.util.concurrent.atomic.AtomicInteger repeat =
        new java.util.concurrent.atomic.AtomicInteger(1);
    // the daemon's next output frame is dropped, the one after it delivered twice
    hostile.tamper =
        (leg, f) -> {
          if (leg == HostileEngine.Leg.TO_ENGINE && isOutput(f)) {
            if (drop.getAndDecrement() > 0) {
              return List.of();
            }
            if (repeat.getAndDecrement() > 0) {
              return List.of(f, f);
            }
          }
          return List.of(f);
        };
    try {
      c.send("echo one-$((1+1))\n".getBytes());
      // the second command only once the first frame was dropped: in one burst both outputs would
      // go together
      Eventually.await("the first frame dropped", Duration.ofSeconds(10), () -> drop.get() <= 0);
      c.send("echo two-$((2+2))\n".getBytes());
      s.await("two-4");
      c.send("exit 3\n".getBytes());
      assertThat(s.exit.get(10, TimeUnit.SECONDS)).isEqualTo(3);
    } finally {
      hostile.tamper = HostileEngine.HONEST;
    }
    assertThat(s.integrity).contains("output_gap:1").anyMatch(p -> p.startsWith("output_repeat:"));
    assertThat(c.stats().get("output_gap")).isEqualTo(1);
    assertThat(c.stats().get("output_refused_replayed")).isEqualTo(1);

    get(engines.get(0).recordingWriter().drained());
    byte[] recording =
        RecordingDownload.export(
            engine(0),
            c.sessionId(),
            tokens.member(ws, "alice", "member"),
            RecordingDownload.MAX_BYTES);
    var chunks = RecordingDecryptor.decrypt(new ByteArrayInputStream(recording), ws, aliceKx, true);
    assertThat(chunks)
        .filteredOn(RecordingDecryptor.Chunk::isNote)
        .extracting(RecordingDecryptor.Chunk::note)
        .anyMatch(n -> n.startsWith("missing: 1 output frame(s)"))
        .anyMatch(n -> n.startsWith("repeated: output frame"));
    // the export renders exactly what the client rendered: the repeat is not shown twice
    ByteArrayOutputStream replayed = new ByteArrayOutputStream();
    for (var ch : chunks) {
      if (ch.kind() == RecordedKind.RECORDED_KIND_DATA
          && ch.stream() == TtyStream.TTY_STREAM_STDOUT) {
        replayed.writeBytes(ch.bytes());
      }
    }
    assertThat(replayed.toByteArray()).isEqualTo(s.bytes());
  }

  @Test
  void
      aViewerForgingStdinWithAnyKeyItHoldsIsRefusedByTheDaemonAndAfterAHandoverThePreviousControllersToo()
          throws Exception {
    Path side = home.resolve("forged-" + UUID.randomUUID());
    TtyScreen a = screen();
    TtyClient owner = openOnHostile("hostile-pins-forge", a, List.of(bobKx.publicKey()));
    TtyScreen b = screen();
    TtyClient viewer =
        get(
            TtyClient.join(
                vertx,
                options(
                    1,
                    "bob",
                    bobSign,
                    bobKx,
                    home.resolve("bob-hostile-pins"),
                    List.of(),
                    Clock.systemUTC()),
                ClientTls.system(),
                owner.sessionId(),
                false,
                b));
    owner.send("echo hello-$((3+4))\n".getBytes());
    b.await("hello-7");
    assertThat(viewer.hasControl()).isFalse();

    // through an honest engine a viewer's stdin stops at not_controller; a hostile one delivers
    // it: sealed with the only payload key the viewer holds, as itself or as the opener, any
    // counter
    long wrongKey = server2.stats().get("input_refused_wrong_key");
    dev.umbra.crypto.webtty.PayloadCipher forger =
        new dev.umbra.crypto.webtty.PayloadCipher(
            dev.umbra.crypto.webtty.KeyRole.INPUT,
            viewer.outputKey(),
            viewer.outputCipher().keyId(),
            viewer.outputCipher().context());
    int forged = 0;
    for (dev.umbra.crypto.webtty.KeyId as :
        List.of(
            dev.umbra.crypto.webtty.KeyId.of(bobKx.publicKey()),
            dev.umbra.crypto.webtty.KeyId.of(aliceKx.publicKey()))) {
      for (long counter : new long[] {0, 5}) {
        hostile.inject(
            stdinFrame(
                owner.sessionId(),
                forger.seal(
                    dev.umbra.crypto.webtty.Stream.STDIN,
                    as,
                    counter,
                    ("echo forged >> " + side + "\n").getBytes())));
        forged++;
      }
    }
    owner.send("echo still-$((1+1))\n".getBytes());
    a.await("still-2");
    assertThat(side).doesNotExist();
    assertThat(server2.stats().get("input_refused_wrong_key")).isEqualTo(wrongKey + forged);

    // control handed to bob: alice's input key is retired; her stdin under it is refused
    dev.umbra.crypto.webtty.PayloadSender old = owner.inputSender();
    viewer.requestControl();
    owner.giveControl(
        a.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST).getParticipantId());
    b.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);
    assertThat(viewer.hasControl()).isTrue();
    viewer.send("echo bob-$((2+2))\n".getBytes());
    a.await("bob-4");
    long retired = server2.stats().get("input_refused_retired_key");
    hostile.inject(
        stdinFrame(
            owner.sessionId(),
            old.seal(
                dev.umbra.crypto.webtty.Stream.STDIN,
                ("echo stale >> " + side + "\n").getBytes())));
    viewer.send("echo after-$((3+3))\n".getBytes());
    a.await("after-6");
    assertThat(side).doesNotExist();
    assertThat(server2.stats().get("input_refused_retired_key")).isEqualTo(retired + 1);
    // and alice's client no longer types at all: it has no input key
    assertThat(owner.hasControl()).isFalse();
    owner.send("echo from-alice\n".getBytes());
    assertThat(a.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("not_controller");
    viewer.send("exit 0\n".getBytes());
    assertThat(a.exit.get(10, TimeUnit.SECONDS)).isZero();
  }
}
