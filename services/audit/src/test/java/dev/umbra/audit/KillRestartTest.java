package dev.umbra.audit;

import static dev.umbra.audit.AuditFixture.await;
import static dev.umbra.audit.AuditFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The proof of issue 8: the audit service (its own JVM) is killed with SIGKILL while 10 000 events
 * are being emitted, a new one is started, and every event is stored exactly once in chains that
 * verify.
 */
@ExtendWith(VertxExtension.class)
class KillRestartTest {
  private static final int EVENTS = 10_000;
  private final List<Process> children = new ArrayList<>();
  private TestPostgres pg;

  @AfterEach
  void cleanUp() {
    children.forEach(Process::destroyForcibly);
    if (pg != null) {
      pg.close();
    }
  }

  @Test
  void killedWhileTenThousandEventsAreEmittedStoresAllExactlyOnceWithChainsThatVerify(Vertx vertx)
      throws Exception {
    pg = TestPostgres.createDatabase();
    String prefix = TestRedis.randomPrefix();
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), prefix);
    AuditEmitter emitter = new AuditEmitter(bus, "relay", Clock.systemUTC(), Metrics.newRegistry());
    List<UUID> workspaces =
        List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());

    int portA = TestServices.portForAChildProcess();
    Process first = startChild(prefix, portA, "first");
    waitHealthy(vertx, portA, first);

    // a producer that keeps emitting, about 2 500 events/s, while the service is killed
    Set<String> emitted = ConcurrentHashMap.newKeySet();
    AtomicBoolean producing = new AtomicBoolean(true);
    Thread producer =
        Thread.ofPlatform()
            .start(
                () -> {
                  for (int i = 0; i < EVENTS; i += 50) {
                    List<Future<String>> chunk = new ArrayList<>();
                    for (int j = i; j < i + 50; j++) {
                      chunk.add(
                          emitter
                              .event(AuditAction.RELAY_CHANNEL_OPENED)
                              .workspace(workspaces.get(j % workspaces.size()))
                              .actor(AuditActor.device("dev-" + (j % 7)))
                              .target("machine", "m-" + (j % 13))
                              .meta("n", Integer.toString(j))
                              .success()
                              .emit());
                    }
                    for (Future<String> id : chunk) {
                      emitted.add(await(id));
                    }
                    try {
                      // paces the producer, not a wait: events keep arriving while an instance is
                      // killed and another one starts
                      Thread.sleep(20);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                  producing.set(false);
                });

    eventually(() -> storedCount() >= 2_000, 30_000);
    first.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no drain, no ack
    long storedAtKill = storedCount();
    long pendingAtKill =
        pending(vertx, prefix); // delivered to the dead instance, never acknowledged
    assertThat(first.exitValue()).isEqualTo(137);
    assertThat(producing.get()).as("the producer is still emitting when the service dies").isTrue();
    assertThat(storedAtKill).isLessThan(EVENTS);

    int portB = TestServices.portForAChildProcess();
    Process second = startChild(prefix, portB, "second");
    waitHealthy(vertx, portB, second);
    producer.join(60_000);
    assertThat(emitted).hasSize(EVENTS);
    eventually(() -> storedCount() >= EVENTS && pending(vertx, prefix) == 0, 45_000);
    // a late duplicate (a redelivery after the acknowledged store) would show in this window
    dev.umbra.kit.testing.Eventually.holdsThroughout(
        "no row beyond the " + EVENTS + " events",
        java.time.Duration.ofMillis(500),
        () -> storedCount() == EVENTS);

    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT id) FROM audit.events");
      rs.next();
      assertThat(rs.getLong(1)).as("stored rows").isEqualTo(EVENTS);
      assertThat(rs.getLong(2)).as("distinct event ids").isEqualTo(EVENTS);
      Set<String> ids = new HashSet<>();
      ResultSet all = st.executeQuery("SELECT id FROM audit.events");
      while (all.next()) {
        ids.add(all.getString(1));
      }
      assertThat(ids).isEqualTo(emitted);
    }
    WebClient http = WebClient.create(vertx);
    for (UUID ws : workspaces) {
      JsonObject v =
          await(
                  http.get(portB, "127.0.0.1", "/v1/workspaces/" + ws + "/audit/verify")
                      .bearerTokenAuthentication(AuditFixture.ADMIN_TOKEN)
                      .send())
              .bodyAsJsonObject();
      assertThat(v.getBoolean("ok")).as(v.encode()).isTrue();
      assertThat(v.getLong("checked")).isEqualTo(EVENTS / workspaces.size());
    }
    String metrics = await(http.get(portB, "127.0.0.1", "/metrics").send()).bodyAsString();
    String duplicates =
        metrics
            .lines()
            .filter(l -> l.startsWith("umbra_audit_ingest_duplicates_total"))
            .findFirst()
            .orElse("none");
    System.out.printf(
        "kill/restart: %d stored and %d pending (unacknowledged) when killed, %d events in all, re-delivered and skipped: %s%n",
        storedAtKill, pendingAtKill, EVENTS, duplicates);
    await(bus.close());
  }

  private Process startChild(String prefix, int port, String name) throws Exception {
    Path log = Path.of("target", "kill-restart-" + name + ".log");
    Files.createDirectories(log.getParent());
    ProcessBuilder pb =
        TestServices.childJvm(
            Main.class,
            log,
            pg,
            prefix,
            Map.of(
                "UMBRA_AUDIT_PORT",
                Integer.toString(port),
                "UMBRA_HOME",
                Files.createTempDirectory("umbra-audit-child").toString(),
                "UMBRA_ADMIN_TOKEN",
                AuditFixture.ADMIN_TOKEN,
                "UMBRA_AUDIT_CLAIM_IDLE_MS",
                "1000",
                "UMBRA_AUDIT_CONSUMER",
                "audit-" + name));
    Process p = pb.start();
    children.add(p);
    return p;
  }

  private static void waitHealthy(Vertx vertx, int port, Process p) throws InterruptedException {
    WebClient http = WebClient.create(vertx);
    eventually(
        () -> {
          if (!p.isAlive()) {
            throw new AssertionError(
                "audit child exited with " + p.exitValue() + "; see target/kill-restart-*.log");
          }
          try {
            return await(http.get(port, "127.0.0.1", "/healthz").send()).statusCode() == 200;
          } catch (RuntimeException e) {
            return false;
          }
        },
        30_000);
  }

  private long storedCount() {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM audit.events")) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      return 0; // the schema may not exist yet
    }
  }

  private static long pending(Vertx vertx, String prefix) {
    return await(
            Redis.createClient(vertx, TestRedis.url().toString())
                .send(
                    Request.cmd(Command.XPENDING)
                        .arg(prefix + AuditEmitter.INGEST_STREAM)
                        .arg(AuditEmitter.INGEST_GROUP)))
        .get(0)
        .toLong();
  }
}
