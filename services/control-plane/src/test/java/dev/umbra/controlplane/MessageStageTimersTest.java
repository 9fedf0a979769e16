package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessageDeliveryTest.Client;
import dev.umbra.controlplane.MessagingFixture.AgentKeys;
import dev.umbra.kit.testing.Eventually;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The stage histograms of a message (docs/benchmarks.md, "Messaging": the breakdown), across two
 * instances: the sender's instance A times each send's stored, answered and published stages, the
 * recipient's instance B the push of each copy to its socket; labelled with the stage only.
 */
@ExtendWith(VertxExtension.class)
class MessageStageTimersTest {
  Harness a;
  Harness b;
  Vertx vertxB;
  MessagingFixture.Scene scene;
  AgentKeys agent;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(a, "claude");
    agent = scene.agent();
    vertxB = Vertx.vertx();
    b = new Harness(vertxB, a);
  }

  @AfterEach
  void stop() throws Exception {
    b.close();
    vertxB.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    a.close();
  }

  static long count(Harness h, String stage) {
    Timer t = h.registry.find("umbra.messaging.stage").tag("stage", stage).timer();
    return t == null ? -1 : t.count();
  }

  @Test
  void timesEachSendOnItsInstanceAndEachPushOnTheRecipients(Vertx vertx) throws Exception {
    Client onB =
        MessageDeliveryTest.connect(vertx, b, scene.owner().workspaceId(), agent.session());
    for (int i = 0; i < 3; i++) {
      MessagingFixture.send(a, scene, ("copy " + i).getBytes(StandardCharsets.UTF_8));
    }
    Eventually.await("pushed from B", Duration.ofSeconds(20), () -> onB.messageIds().size() == 3);
    Eventually.await("pushes timed", Duration.ofSeconds(20), () -> count(b, "pushed") == 3);
    Eventually.await("notices timed", Duration.ofSeconds(20), () -> count(a, "published") == 3);

    assertThat(count(a, "stored")).isEqualTo(3);
    assertThat(count(a, "answered")).isEqualTo(3);
    assertThat(count(a, "pushed")).as("A holds no socket of the agent").isZero();
    assertThat(count(b, "stored")).as("nothing was sent through B").isZero();
    String scraped = a.registry.scrape();
    assertThat(scraped)
        .contains("umbra_messaging_stage_seconds_bucket{stage=\"stored\",le=\"1.0E-5\"}")
        .contains("umbra_messaging_stage_seconds_count{stage=\"published\"} 3");
    // the stage is its only label: no id, principal or payload reaches the metrics
    scraped
        .lines()
        .filter(l -> l.startsWith("umbra_messaging_stage_seconds"))
        .forEach(
            l ->
                assertThat(l)
                    .matches(
                        "umbra_messaging_stage_seconds_\\w+\\{stage=\"\\w+\"(,le=\"[^\"]+\")?\\} .*"));
  }
}
