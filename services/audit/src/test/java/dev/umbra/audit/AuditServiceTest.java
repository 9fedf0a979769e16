package dev.umbra.audit;

import static dev.umbra.audit.AuditFixture.await;
import static dev.umbra.audit.AuditFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.kit.revocation.RevocationPublisher;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.PostgresPerClass;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestSockets;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The audit service over the real PostgreSQL and Redis: ingest, chain, API, tenancy. */
@ExtendWith(VertxExtension.class)
class AuditServiceTest {
  /**
   * How long an event of another workspace is given to show up where it must not: the absence is
   * what these checks assert, so the window's length is their point.
   */
  static final Duration OTHER_WORKSPACE_WINDOW = Duration.ofMillis(300);

  @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();
  private AuditFixture f;
  private final UUID wsA = UUID.randomUUID();
  private final UUID wsB = UUID.randomUUID();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    f = new AuditFixture(vertx, pg.get(), Map.of()).start();
  }

  @AfterEach
  void stop() throws Exception {
    f.close();
  }

  private JsonObject get(String path, String token) {
    HttpResponse<Buffer> r = await(f.http.get(path).bearerTokenAuthentication(token).send());
    JsonObject body = r.bodyAsJsonObject();
    return body.put("_status", r.statusCode());
  }

  private JsonObject verify(UUID ws) {
    return get("/v1/workspaces/" + ws + "/audit/verify", f.adminOf(ws));
  }

  @Test
  void storesEmittedEventsInAVerifiableChainPerWorkspace() throws Exception {
    for (int i = 0; i < 30; i++) {
      await(
          f.event(AuditAction.TERMINAL_OPENED, i % 3 == 0 ? wsB : wsA)
              .meta("i", Integer.toString(i))
              .success()
              .emit());
    }
    eventually(() -> f.stored(wsA) == 20 && f.stored(wsB) == 10, 10_000);
    JsonObject a = verify(wsA);
    assertThat(a.getBoolean("ok")).isTrue();
    assertThat(a.getLong("checked")).isEqualTo(20);
    assertThat(a.getJsonObject("head").getLong("seq")).isEqualTo(20);
    assertThat(verify(wsB).getLong("checked")).isEqualTo(10);
    assertThat(
            f.count(
                "SELECT count(DISTINCT seq) FROM audit.events WHERE workspace_id = '"
                    + wsA
                    + "' AND seq BETWEEN 1 AND 20"))
        .isEqualTo(20);
  }

  @Test
  void twoInstancesShareTheStreamAndKeepEachChainWhole() throws Exception {
    var registry2 = dev.umbra.kit.metrics.Metrics.newRegistry();
    AuditService second =
        await(
            dev.umbra.kit.testing.TestServices.deploy(
                f.vertx,
                f.config,
                f.bus,
                registry2,
                java.time.Clock.systemUTC(),
                AuditService::new));
    try {
      List<io.vertx.core.Future<String>> all = new ArrayList<>();
      for (int i = 0; i < 2_000; i++) {
        all.add(f.event(AuditAction.RELAY_CHANNEL_OPENED, i % 2 == 0 ? wsA : wsB).success().emit());
      }
      await(io.vertx.core.Future.all(all));
      eventually(() -> f.stored(wsA) == 1_000 && f.stored(wsB) == 1_000, 30_000);
      double one = f.registry.get("umbra.audit.ingest_stored").counter().count();
      double two = registry2.get("umbra.audit.ingest_stored").counter().count();
      assertThat(one + two).isEqualTo(2_000.0);
      // appends to one chain from two instances wait for each other and never collide
      assertThat(
              f.registry.get("umbra.audit.ingest_failures").counter().count()
                  + registry2.get("umbra.audit.ingest_failures").counter().count())
          .isZero();
      for (UUID ws : List.of(wsA, wsB)) {
        JsonObject v = verify(ws);
        assertThat(v.getBoolean("ok")).as(v.encode()).isTrue();
        assertThat(v.getLong("checked")).isEqualTo(1_000);
      }
      System.out.printf("two instances stored %.0f and %.0f events%n", one, two);
    } finally {
      await(f.vertx.undeploy(second.deploymentID()));
    }
  }

  @Test
  void replayedEntriesAreStoredOnceAndDoNotAdvanceTheChain() throws Exception {
    AuditEvent e =
        f.event(AuditAction.DEVICE_APPROVED, wsA)
            .success()
            .proto()
            .setId("01JDQ8Z6X3K9V2M4N5P6Q7R8ST")
            .setTimeUnixMs(System.currentTimeMillis())
            .setService("control-plane")
            .build();
    for (int i = 0; i < 3; i++) {
      await(f.bus.append(AuditEmitter.INGEST_STREAM, Buffer.buffer(e.toByteArray()), 0));
    }
    await(f.event(AuditAction.DEVICE_REVOKED, wsA).success().emit());
    eventually(() -> f.stored(wsA) == 2 && pending() == 0, 10_000);
    assertThat(f.count("SELECT max(seq) FROM audit.events WHERE workspace_id = '" + wsA + "'"))
        .isEqualTo(2);
    assertThat(f.count("SELECT last_seq FROM audit.chain_heads WHERE workspace_id = '" + wsA + "'"))
        .isEqualTo(2);
    assertThat(verify(wsA).getBoolean("ok")).isTrue();
    assertThat(f.registry.get("umbra.audit.ingest_duplicates").counter().count()).isEqualTo(2.0);
  }

  private long pending() {
    Response r =
        await(
            Redis.createClient(f.vertx, TestRedis.url().toString())
                .send(
                    Request.cmd(Command.XPENDING)
                        .arg(f.prefix + AuditEmitter.INGEST_STREAM)
                        .arg(AuditEmitter.INGEST_GROUP)));
    return r.get(0).toLong();
  }

  @Test
  void malformedEntriesGoToDeadLettersAndNeverBlockTheStream() throws Exception {
    await(
        f.bus.append(
            AuditEmitter.INGEST_STREAM, Buffer.buffer(new byte[] {(byte) 0xff, 0x01, 0x02}), 0));
    await(
        f.bus.append(
            AuditEmitter.INGEST_STREAM,
            Buffer.buffer(new byte[AuditEventRules.MAX_EVENT_BYTES + 10]),
            0));
    AuditEvent unknown =
        f.event(AuditAction.TERMINAL_OPENED, wsA)
            .success()
            .proto()
            .setAction("terminal.hijacked")
            .setId("01JDQ8Z6X3K9V2M4N5P6Q7R8SV")
            .setTimeUnixMs(1)
            .setService("x")
            .build();
    await(f.bus.append(AuditEmitter.INGEST_STREAM, Buffer.buffer(unknown.toByteArray()), 0));
    AuditEvent secret =
        unknown.toBuilder()
            .setAction("terminal.opened")
            .setId("01JDQ8Z6X3K9V2M4N5P6Q7R8SW")
            .putMetadata("session_token", "canary-secret")
            .build();
    await(f.bus.append(AuditEmitter.INGEST_STREAM, Buffer.buffer(secret.toByteArray()), 0));
    await(f.event(AuditAction.TERMINAL_CLOSED, wsA).success().emit());
    eventually(
        () ->
            f.stored(wsA) == 1
                && f.count("SELECT count(*) FROM audit.dead_letters") == 4
                && pending() == 0,
        10_000);
    assertThat(f.count("SELECT count(*) FROM audit.dead_letters WHERE reason = 'malformed'"))
        .isEqualTo(1);
    assertThat(f.count("SELECT count(*) FROM audit.dead_letters WHERE reason = 'oversized'"))
        .isEqualTo(1);
    assertThat(f.count("SELECT count(*) FROM audit.dead_letters WHERE reason = 'unknown_action'"))
        .isEqualTo(1);
    assertThat(
            f.registry.get("umbra.audit.dead_letters").tag("reason", "malformed").counter().count())
        .isEqualTo(1.0);
    HttpResponse<Buffer> r =
        await(
            f.http
                .get("/v1/admin/audit/dead-letters")
                .bearerTokenAuthentication(AuditFixture.ADMIN_TOKEN)
                .send());
    JsonArray kept = r.bodyAsJsonObject().getJsonArray("dead_letters");
    assertThat(kept).hasSize(4);
    assertThat(
            await(
                    f.http
                        .get("/v1/admin/audit/dead-letters")
                        .bearerTokenAuthentication(f.adminOf(wsA))
                        .send())
                .statusCode())
        .isEqualTo(401);

    // re-drive: the whole entry goes back on the stream (and, still malformed, comes back)
    String malformed =
        kept.stream()
            .map(JsonObject.class::cast)
            .filter(o -> o.getString("reason").equals("malformed"))
            .findFirst()
            .orElseThrow()
            .getString("entry_id");
    HttpResponse<Buffer> again =
        await(
            f.http
                .post("/v1/admin/audit/dead-letters/" + malformed + "/redrive")
                .bearerTokenAuthentication(AuditFixture.ADMIN_TOKEN)
                .send());
    assertThat(again.statusCode()).isEqualTo(200);
    String newId = again.bodyAsJsonObject().getString("new_entry_id");
    eventually(
        () ->
            f.count("SELECT count(*) FROM audit.dead_letters WHERE entry_id = '" + newId + "'") == 1
                && f.count(
                        "SELECT count(*) FROM audit.dead_letters WHERE entry_id = '"
                            + malformed
                            + "'")
                    == 0,
        10_000);
    // an event kept with its metadata blanked is not the original: it cannot be re-driven
    String blanked =
        kept.stream()
            .map(JsonObject.class::cast)
            .filter(o -> o.getString("reason").equals("forbidden_metadata_key"))
            .findFirst()
            .orElseThrow()
            .getString("entry_id");
    assertThat(
            await(
                    f.http
                        .post("/v1/admin/audit/dead-letters/" + blanked + "/redrive")
                        .bearerTokenAuthentication(AuditFixture.ADMIN_TOKEN)
                        .send())
                .statusCode())
        .isEqualTo(409);
    assertThat(
            f.count(
                "SELECT count(*) FROM audit.dead_letters WHERE position('canary-secret'::bytea in raw) > 0"))
        .isZero();
  }

  @Test
  void verifyNamesFirstBrokenLink() throws Exception {
    for (int i = 0; i < 10; i++) {
      await(f.event(AuditAction.RECORDING_EXPORTED, wsA).success().emit());
      await(f.event(AuditAction.RECORDING_EXPORTED, wsB).success().emit());
    }
    eventually(() -> f.stored(wsA) == 10 && f.stored(wsB) == 10, 10_000);
    f.sql(
        "UPDATE audit.events SET target = 'recording:forged' WHERE workspace_id = '"
            + wsA
            + "' AND seq = 5");
    f.sql(
        "UPDATE audit.events SET target = 'recording:forged' WHERE workspace_id = '"
            + wsA
            + "' AND seq = 8");
    JsonObject a = verify(wsA);
    assertThat(a.getBoolean("ok")).isFalse();
    assertThat(a.getJsonObject("first_broken").getLong("seq")).isEqualTo(5);
    assertThat(a.getJsonObject("first_broken").getString("reason")).isEqualTo("hash_mismatch");
    assertThat(a.getJsonObject("first_broken").getString("event_id")).hasSize(26);
    assertThat(a.getLong("checked")).isEqualTo(4);

    f.sql("DELETE FROM audit.events WHERE workspace_id = '" + wsB + "' AND seq = 3");
    JsonObject b = verify(wsB);
    assertThat(b.getJsonObject("first_broken").getLong("seq")).isEqualTo(3);
    assertThat(b.getJsonObject("first_broken").getString("reason")).isEqualTo("missing");
  }

  @Test
  void verifyFindsARecomputedHashAndADeletedNewestEvent() throws Exception {
    for (int i = 0; i < 6; i++) {
      await(f.event(AuditAction.MACHINE_PAIRED, wsA).success().emit());
      await(f.event(AuditAction.MACHINE_PAIRED, wsB).success().emit());
    }
    eventually(() -> f.stored(wsA) == 6 && f.stored(wsB) == 6, 10_000);
    // a forger who rewrites a row's hash too breaks the next link
    f.sql(
        "UPDATE audit.events SET hash = sha256(hash) WHERE workspace_id = '"
            + wsA
            + "' AND seq = 2");
    JsonObject a = verify(wsA).getJsonObject("first_broken");
    assertThat(a.getLong("seq")).isEqualTo(2);
    f.sql("DELETE FROM audit.events WHERE workspace_id = '" + wsB + "' AND seq = 6");
    JsonObject b = verify(wsB).getJsonObject("first_broken");
    assertThat(b.getLong("seq")).isEqualTo(6);
    assertThat(b.getString("reason")).isEqualTo("missing");
  }

  @Test
  void liveEventsReachAPlainRedisSubscriber() throws Exception {
    // what `redis-cli SUBSCRIBE umbra.audit.<workspace_id>` does, with no Umbra code involved
    List<String> received = new CopyOnWriteArrayList<>();
    RedisConnection conn = await(Redis.createClient(f.vertx, TestRedis.url().toString()).connect());
    conn.handler(
        m -> {
          if (m.size() == 3 && "message".equals(m.get(0).toString())) {
            received.add(m.get(2).toString());
          }
        });
    await(
        conn.send(
            Request.cmd(Command.SUBSCRIBE)
                .arg(f.prefix + dev.umbra.kit.bus.BusNames.AUDIT_LIVE_PREFIX + wsA)));
    String id = await(f.event(AuditAction.TERMINAL_OPENED, wsA).success().emit());
    await(f.event(AuditAction.TERMINAL_OPENED, wsB).success().emit());
    eventually(() -> !received.isEmpty(), 10_000);
    // the window in which an event that must not arrive (the other workspace's) would show
    Eventually.holdsThroughout(
        "one event on workspace A's channel", OTHER_WORKSPACE_WINDOW, () -> received.size() == 1);
    conn.close();
    assertThat(received).hasSize(1);
    JsonObject e = new JsonObject(received.get(0));
    assertThat(e.getString("workspace_id")).isEqualTo(wsA.toString());
    assertThat(e.getString("action")).isEqualTo("terminal.opened");
    assertThat(e.getLong("seq")).isEqualTo(1);
    assertThat(e.getString("hash")).hasSize(64);
    assertThat(id).isNotEmpty();
  }

  @Test
  void redisCliSubscribeReceivesEventsLive() throws Exception {
    Path cli =
        java.util.stream.Stream.of(
                System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
            .map(d -> Path.of(d, "redis-cli"))
            .filter(Files::isExecutable)
            .findFirst()
            .orElse(null);
    Assumptions.assumeTrue(cli != null, "redis-cli is not installed");
    Path out = Files.createTempFile("redis-cli", ".txt");
    String channel = f.prefix + dev.umbra.kit.bus.BusNames.AUDIT_LIVE_PREFIX + wsA;
    Process sub =
        new ProcessBuilder(cli.toString(), "-u", TestRedis.url().toString(), "SUBSCRIBE", channel)
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    try {
      eventually(() -> read(out).contains(channel), 5_000); // subscribed
      String id = await(f.event(AuditAction.RECORDING_EXPORTED, wsA).success().emit());
      await(f.event(AuditAction.RECORDING_EXPORTED, wsB).success().emit());
      eventually(() -> read(out).contains(id), 10_000);
      // the window in which an event that must not arrive (the other workspace's) would show
      Eventually.holdsThroughout(
          "nothing of workspace B on A's channel",
          OTHER_WORKSPACE_WINDOW,
          () -> !read(out).contains(wsB.toString()));
      assertThat(read(out))
          .contains("\"action\":\"recording.exported\"")
          .doesNotContain(wsB.toString());
    } finally {
      sub.destroy();
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      return "";
    }
  }

  @Test
  void queryFiltersAndPagesWithACursor() throws Exception {
    long t0 = System.currentTimeMillis();
    for (int i = 0; i < 25; i++) {
      AuditAction action = i % 5 == 0 ? AuditAction.DEVICE_APPROVED : AuditAction.TERMINAL_OPENED;
      await(
          f.emitter
              .event(action)
              .workspace(wsA)
              .actor(AuditActor.member(i % 2 == 0 ? "alice" : "bob"))
              .target("machine", "m-" + (i % 3))
              .success()
              .emit());
    }
    eventually(() -> f.stored(wsA) == 25, 10_000);
    String token = f.adminOf(wsA);
    String base = "/v1/workspaces/" + wsA + "/audit/events";
    List<Long> seqs = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonObject page =
          get(base + "?limit=10" + (cursor == null ? "" : "&cursor=" + cursor), token);
      assertThat(page.getInteger("_status")).isEqualTo(200);
      page.getJsonArray("events").forEach(o -> seqs.add(((JsonObject) o).getLong("seq")));
      cursor = page.getString("next_cursor");
      pages++;
    } while (cursor != null);
    assertThat(pages).isEqualTo(3);
    assertThat(seqs)
        .hasSize(25)
        .doesNotHaveDuplicates()
        .isSortedAccordingTo((a, b) -> Long.compare(b, a));

    JsonObject firstAsc = get(base + "?order=asc&limit=20", token);
    List<Long> asc = new ArrayList<>();
    firstAsc.getJsonArray("events").forEach(o -> asc.add(((JsonObject) o).getLong("seq")));
    get(base + "?order=asc&limit=20&cursor=" + firstAsc.getString("next_cursor"), token)
        .getJsonArray("events")
        .forEach(o -> asc.add(((JsonObject) o).getLong("seq")));
    assertThat(asc).hasSize(25).isSorted();
    assertThat(
            get(base + "?order=desc&cursor=" + firstAsc.getString("next_cursor"), token)
                .getInteger("_status"))
        .as("a cursor of another order")
        .isEqualTo(400);
    assertThat(get(base + "?action=device.approved", token).getJsonArray("events")).hasSize(5);
    assertThat(get(base + "?actor=alice&action=terminal.opened", token).getJsonArray("events"))
        .hasSize(10);
    assertThat(get(base + "?actor=member:bob", token).getJsonArray("events")).hasSize(12);
    assertThat(get(base + "?target=machine:m-0", token).getJsonArray("events")).hasSize(9);
    assertThat(
            get(base + "?from=" + (t0 - 1000) + "&to=" + (System.currentTimeMillis() + 1000), token)
                .getJsonArray("events"))
        .hasSize(25);
    assertThat(
            get(base + "?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z", token)
                .getJsonArray("events"))
        .isEmpty();
    JsonObject bad = get(base + "?action=nope.nope", token);
    assertThat(bad.getInteger("_status")).isEqualTo(400);
    assertThat(bad.getJsonObject("error").getString("field")).isEqualTo("action");
    assertThat(get(base + "?cursor=garbage", token).getInteger("_status")).isEqualTo(400);
  }

  @Test
  void exportWritesJsonLinesInChainOrderAndIsAudited() throws Exception {
    for (int i = 0; i < 1_500; i++) {
      f.event(AuditAction.VAULT_ENTRY_READ, wsA).success().emit();
    }
    eventually(() -> f.stored(wsA) == 1_500, 20_000);
    HttpResponse<Buffer> r =
        await(
            f.http
                .get("/v1/workspaces/" + wsA + "/audit/export")
                .bearerTokenAuthentication(f.adminOf(wsA))
                .send());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("content-type")).isEqualTo("application/x-ndjson");
    String[] lines = r.bodyAsString().split("\n");
    assertThat(lines.length).isGreaterThanOrEqualTo(1_500);
    String prevHash = "0".repeat(64);
    for (int i = 0; i < 1_500; i++) {
      JsonObject e = new JsonObject(lines[i]);
      assertThat(e.getLong("seq")).isEqualTo(i + 1);
      assertThat(e.getString("prev_hash")).isEqualTo(prevHash);
      prevHash = e.getString("hash");
    }
    eventually(
        () -> f.count("SELECT count(*) FROM audit.events WHERE action = 'audit.exported'") == 1,
        10_000);
  }

  @Test
  void crossTenantRequestsAreRefused() throws Exception {
    await(f.event(AuditAction.TERMINAL_OPENED, wsA).success().emit());
    eventually(() -> f.stored(wsA) == 1, 10_000);
    String a = "/v1/workspaces/" + wsA + "/audit/";
    for (String op : List.of("events", "verify", "export", "tail")) {
      assertThat(get(a + op, f.adminOf(wsB)).getInteger("_status"))
          .as(op + " with B's token")
          .isEqualTo(403);
      assertThat(get(a + op, f.token(wsA, "member", "member")).getInteger("_status"))
          .as(op + " as member")
          .isEqualTo(403);
      assertThat(get(a + op, f.token(wsA, "machine", "machine")).getInteger("_status"))
          .as(op + " as machine")
          .isEqualTo(403);
      HttpResponse<Buffer> none = await(f.http.get(a + op).send());
      assertThat(none.statusCode()).as(op + " without token").isEqualTo(401);
      assertThat(get(a + op, "forged." + f.adminOf(wsA).substring(7)).getInteger("_status"))
          .isEqualTo(401);
    }
    assertThat(get(a + "events", f.token(wsA, "owner", "member")).getJsonArray("events"))
        .hasSize(1);
    assertThat(
            get("/v1/workspaces/" + wsB + "/audit/events", f.adminOf(wsB)).getJsonArray("events"))
        .isEmpty();
  }

  @Test
  void rowLevelSecurityShowsOnlyTheTransactionsWorkspace() throws Exception {
    await(f.event(AuditAction.TERMINAL_OPENED, wsA).success().emit());
    await(f.event(AuditAction.TERMINAL_OPENED, wsB).success().emit());
    eventually(() -> f.stored(wsA) == 1 && f.stored(wsB) == 1, 10_000);
    var db = f.service.database();
    long seen =
        await(db.inWorkspace(wsB, c -> c.query("SELECT count(*) FROM events").execute()))
            .iterator()
            .next()
            .getLong(0);
    long other =
        await(
                db.inWorkspace(
                    wsB,
                    c ->
                        c.query("SELECT count(*) FROM events WHERE workspace_id = '" + wsA + "'")
                            .execute()))
            .iterator()
            .next()
            .getLong(0);
    long none =
        await(db.withTransaction(c -> c.query("SELECT count(*) FROM events").execute()))
            .iterator()
            .next()
            .getLong(0);
    assertThat(seen).isEqualTo(1);
    assertThat(other).isZero();
    assertThat(none).isZero();
    Throwable write =
        await(
            db.inWorkspace(
                    wsB,
                    c ->
                        c.query(
                                "UPDATE chain_heads SET last_seq = 99 WHERE workspace_id = '"
                                    + wsA
                                    + "'")
                            .execute())
                .map(rs -> (Throwable) null)
                .otherwise(e -> e));
    assertThat(f.count("SELECT last_seq FROM audit.chain_heads WHERE workspace_id = '" + wsA + "'"))
        .isEqualTo(1);
    assertThat(write).isNull(); // RLS makes the row invisible: the update touches nothing
  }

  @Test
  void deploymentEventsNeedTheAdminToken() throws Exception {
    await(
        f.emitter
            .event(AuditAction.WORKSPACE_CREATED)
            .deployment()
            .actor(AuditActor.service("control-plane"))
            .target("workspace", wsA)
            .success()
            .emit());
    UUID deployment = AuditEventRules.DEPLOYMENT_WORKSPACE;
    eventually(() -> f.stored(deployment) == 1, 10_000);
    String path = "/v1/workspaces/" + deployment + "/audit/events";
    assertThat(get(path, f.adminOf(deployment)).getInteger("_status")).isEqualTo(403);
    JsonArray events = get(path, AuditFixture.ADMIN_TOKEN).getJsonArray("events");
    assertThat(events).hasSize(1);
    assertThat(events.getJsonObject(0).getString("action")).isEqualTo("workspace.created");
  }

  @Test
  void tailStreamsStoredEventsOverSseToTheirWorkspaceOnly() throws Exception {
    HttpClient client = f.vertx.createHttpClient();
    StringBuffer streamA = new StringBuffer();
    HttpClientResponse resp =
        await(
            client
                .request(
                    new RequestOptions()
                        .setMethod(HttpMethod.GET)
                        .setHost("127.0.0.1")
                        .setPort(f.service.actualPort())
                        .setURI("/v1/workspaces/" + wsA + "/audit/tail")
                        .putHeader("authorization", "Bearer " + f.adminOf(wsA)))
                .compose(req -> req.send().map(r -> r.handler(b -> streamA.append(b.toString())))));
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.getHeader("content-type")).isEqualTo("text/event-stream");
    eventually(() -> streamA.toString().contains(": tail of"), 5_000);
    Set<String> idsA = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      idsA.add(await(f.event(AuditAction.COMMAND_RUN, wsA).success().emit()));
      await(f.event(AuditAction.COMMAND_RUN, wsB).success().emit());
    }
    eventually(
        () -> streamA.toString().split("\"action\":\"command.run\"").length - 1 >= 5, 10_000);
    // the window in which an event that must not arrive (the other workspace's) would show
    Eventually.holdsThroughout(
        "five command.run events and nothing of workspace B on A's tail",
        OTHER_WORKSPACE_WINDOW,
        () ->
            streamA.toString().split("\"action\":\"command.run\"").length - 1 == 5
                && !streamA.toString().contains(wsB.toString()));
    String text = streamA.toString();
    assertThat(text.split("\"action\":\"command.run\"").length - 1).isEqualTo(5);
    assertThat(text).doesNotContain(wsB.toString());
    assertThat(text)
        .contains("\"action\":\"audit.tail_opened\""); // opening the tail is audited too
    for (String id : idsA) {
      assertThat(text).contains("\"id\":\"" + id + "\"");
    }
    client.close();
  }

  @Test
  void tailOverWebSocketSendsOneMessagePerEvent() throws Exception {
    List<String> messages = new CopyOnWriteArrayList<>();
    var options =
        new io.vertx.core.http.WebSocketConnectOptions()
            .setHost("127.0.0.1")
            .setPort(f.service.actualPort())
            .setURI("/v1/workspaces/" + wsA + "/audit/tail")
            .addHeader("authorization", "Bearer " + f.adminOf(wsA));
    var client = f.vertx.createWebSocketClient();
    // the handler is set before the upgrade: audit.tail_opened comes right after it
    var socket =
        TestSockets.open(
            client, options, s -> s.textMessageHandler(messages::add), Duration.ofSeconds(30));
    eventually(() -> messages.stream().anyMatch(m -> m.contains("audit.tail_opened")), 10_000);
    String id = await(f.event(AuditAction.TUNNEL_OPENED, wsA).success().emit());
    await(f.event(AuditAction.TUNNEL_OPENED, wsB).success().emit());
    eventually(() -> messages.stream().anyMatch(m -> m.contains(id)), 10_000);
    assertThat(messages)
        .allSatisfy(
            m -> assertThat(new JsonObject(m).getString("workspace_id")).isEqualTo(wsA.toString()));
    await(socket.close());
    Throwable refused =
        client
            .connect(
                new io.vertx.core.http.WebSocketConnectOptions()
                    .setHost("127.0.0.1")
                    .setPort(f.service.actualPort())
                    .setURI("/v1/workspaces/" + wsA + "/audit/tail")
                    .addHeader("authorization", "Bearer " + f.adminOf(wsB)))
            .toCompletionStage()
            .toCompletableFuture()
            .handle((v, e) -> e)
            .get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(refused).isNotNull().hasMessageContaining("403");
    await(client.close()); // held to here: Vert.x closes a client that has become unreachable
  }

  @Test
  void aRevokedSessionsSseTailEndsAndItsTokenIsRefused() throws Exception {
    String token = f.adminOf(wsA);
    HttpClient client = f.vertx.createHttpClient();
    StringBuffer stream = new StringBuffer();
    java.util.concurrent.CompletableFuture<Void> ended =
        new java.util.concurrent.CompletableFuture<>();
    RequestOptions tail =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setHost("127.0.0.1")
            .setPort(f.service.actualPort())
            .setURI("/v1/workspaces/" + wsA + "/audit/tail")
            .putHeader("authorization", "Bearer " + token);
    HttpClientResponse resp =
        await(
            client
                .request(tail)
                .compose(
                    req ->
                        req.send()
                            .map(
                                r -> {
                                  r.handler(b -> stream.append(b.toString()));
                                  r.endHandler(v -> ended.complete(null));
                                  return r;
                                })));
    assertThat(resp.statusCode()).isEqualTo(200);
    eventually(() -> stream.toString().contains(": tail of"), 5_000);
    // the token's subject (acct-admin) is removed from the workspace
    await(
        new RevocationPublisher(f.vertx, f.bus)
            .publish(
                Revoked.message(
                    RevokedKind.REVOKED_KIND_MEMBER,
                    wsA,
                    "member-id",
                    "acct-admin",
                    java.time.Instant.now())));
    ended.get(2, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(stream.toString()).contains("event: revoked");
    assertThat(await(client.request(tail).compose(req -> req.send())).statusCode()).isEqualTo(401);
    client.close();
  }
}
