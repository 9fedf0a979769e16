package dev.umbra.controlplane.messaging;

import dev.umbra.crypto.secret.WebhookSignatures;
import dev.umbra.kit.db.Database;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a member's notification webhook a delivery signal when an agent's message is stored for
 * them (docs/messaging.md, "Notifications"): body {@code {"conversation_id","message_id","sender"}}
 * only — never content nor ciphertext — signed in {@code X-Umbra-Signature} (HMAC-SHA256 with the
 * member's secret), retried with exponential backoff ({@link #ATTEMPTS} attempts); only to hosts
 * {@link WebhookDestinations} admits, connecting to the address it checked.
 */
final class Notifier {
  private static final Logger log = LoggerFactory.getLogger(Notifier.class);
  static final String SIGNATURE_HEADER = "X-Umbra-Signature";
  static final int ATTEMPTS = 4;
  private static final int TIMEOUT_MS = 5_000;

  private final Vertx vertx;
  private final Database db;
  private final WebhookStore store;
  private final WebhookDestinations destinations;
  private final HttpClient http;
  private final Duration firstRetry;
  private final Counter delivered;
  private final Counter failed;
  private final Counter refused;

  Notifier(
      Vertx vertx,
      Database db,
      WebhookStore store,
      WebhookDestinations destinations,
      Duration firstRetry,
      MeterRegistry registry) {
    this.vertx = vertx;
    this.db = db;
    this.store = store;
    this.destinations = destinations;
    // connects to the address that was checked; SNI and the certificate check use the URL's host
    this.http = vertx.createHttpClient(new HttpClientOptions().setForceSni(true));
    this.firstRetry = firstRetry;
    this.delivered =
        Counter.builder(dev.umbra.kit.metrics.Metrics.name("control-plane", "webhooks"))
            .tag("outcome", "delivered")
            .register(registry);
    this.failed =
        Counter.builder(dev.umbra.kit.metrics.Metrics.name("control-plane", "webhooks"))
            .tag("outcome", "failed")
            .register(registry);
    this.refused =
        Counter.builder(dev.umbra.kit.metrics.Metrics.name("control-plane", "webhooks"))
            .tag("outcome", "refused")
            .register(registry);
  }

  /** Notifies {@code account} (if it set a webhook) that {@code agent} sent {@code message}. */
  void messageFromAgent(UUID wid, UUID account, UUID agent, UUID conversation, UUID message) {
    db.inWorkspace(wid, conn -> store.target(conn, account, agent))
        .onSuccess(
            t ->
                t.ifPresent(
                    target -> {
                      byte[] body =
                          new JsonObject()
                              .put("conversation_id", conversation.toString())
                              .put("message_id", message.toString())
                              .put("sender", target.senderName())
                              .encode()
                              .getBytes(StandardCharsets.UTF_8);
                      attempt(target, body, 1);
                    }))
        .onFailure(e -> log.warn("webhook lookup failed: {}", e.toString()));
  }

  private void attempt(WebhookStore.Target t, byte[] body, int n) {
    post(t, body)
        .onSuccess(v -> delivered.increment())
        .onFailure(
            e -> {
              if (e instanceof WebhookDestinations.Refused) {
                refused.increment(); // not retried: the address will not become acceptable
                log.info("webhook not delivered: its host is an internal address");
                return;
              }
              if (n >= ATTEMPTS) {
                failed.increment();
                log.info("webhook not delivered after {} attempts", n);
                return;
              }
              long delay = firstRetry.toMillis() << (2 * (n - 1));
              vertx.setTimer(Math.max(1, delay), x -> attempt(t, body, n + 1));
            });
  }

  private Future<Void> post(WebhookStore.Target t, byte[] body) {
    URI u = URI.create(t.url());
    int port = u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    return destinations
        .resolve(u.getHost())
        .compose(address -> post(t, body, new InetSocketAddress(address, port)));
  }

  private Future<Void> post(WebhookStore.Target t, byte[] body, InetSocketAddress checked) {
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(t.url())
            .setServer(SocketAddress.inetSocketAddress(checked))
            .setTimeout(TIMEOUT_MS)
            .setFollowRedirects(false)
            .putHeader("content-type", "application/json")
            .putHeader(SIGNATURE_HEADER, WebhookSignatures.sign(t.secret(), body));
    return http.request(o)
        .compose(req -> req.send(Buffer.buffer(body)))
        .compose(
            resp ->
                resp.statusCode() / 100 == 2
                    ? Future.<Void>succeededFuture()
                    : Future.<Void>failedFuture(
                        new IllegalStateException("HTTP " + resp.statusCode())));
  }
}
