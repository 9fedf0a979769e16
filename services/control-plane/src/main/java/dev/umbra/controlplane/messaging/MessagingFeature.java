package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditOutbox;
import dev.umbra.controlplane.notify.Sweeps;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.revocation.RevocationList;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owner-agent messaging on the control plane, wired by hand (docs/messaging.md): prekeys,
 * conversations, the ciphertext store, live delivery and retention.
 */
public final class MessagingFeature {
  private static final Logger log = LoggerFactory.getLogger(MessagingFeature.class);
  private static final long SWEEP_EVERY_MS = Duration.ofMinutes(10).toMillis();

  private final Vertx vertx;
  private final Database db;
  private final Clock clock;
  private final Duration retention;
  private final MessageStore store;
  private final LiveDelivery live;
  private final PrekeyRoutes prekeyRoutes;
  private final MessageRoutes messageRoutes;
  private final WebhookRoutes webhookRoutes;
  private final Notifier notifier;
  private final AuditOutbox auditOutbox;
  private final Duration idle;
  private long timer = -1;
  private long idleTimer = -1;

  /**
   * Settings of the feature (docs/messaging.md, docs/configuration.md).
   *
   * @param retention how long an unacknowledged copy is kept
   * @param webhookFirstRetry the first retry delay of a notification (then ×4 per attempt)
   * @param webhookAllowHttp admit http:// webhooks (development only)
   * @param webhookAllowPrivate admit webhooks to loopback, private and link-local addresses
   *     (development only)
   * @param socketIdle a live socket that sends nothing for this long is closed
   * @param pendingPerRecipient most unacknowledged copies waiting for one recipient device or agent
   * @param pendingPerSender most copies one sender (device or agent) has waiting for recipients
   */
  public record Settings(
      Duration retention,
      Duration webhookFirstRetry,
      boolean webhookAllowHttp,
      boolean webhookAllowPrivate,
      Duration socketIdle,
      int pendingPerRecipient,
      int pendingPerSender) {}

  /** What the feature uses of the service. */
  public record Wiring(
      Vertx vertx,
      Database db,
      Bus bus,
      AuditEmitter audit,
      RevocationList revocations,
      Authenticator auth,
      Tenancy tenancy,
      MeterRegistry registry,
      Ids ids,
      Clock clock,
      dev.umbra.kit.auth.InternalCredential internal,
      AuditOutbox auditOutbox) {}

  public MessagingFeature(Wiring w, Settings settings) {
    this.vertx = w.vertx();
    this.db = w.db();
    this.clock = w.clock();
    this.retention = settings.retention();
    this.store =
        new MessageStore(
            new MessageStore.Quotas(settings.pendingPerRecipient(), settings.pendingPerSender()));
    Parties parties = new Parties(db);
    WebhookStore webhooks = new WebhookStore();
    StageTimers stages = new StageTimers(w.registry());
    Notices notices = new Notices(w.internal(), w.registry(), clock);
    this.live =
        new LiveDelivery(
            w.bus(),
            db,
            store,
            w.audit(),
            settings.socketIdle(),
            new NoticeOutbox(vertx, w.bus(), notices::seal, w.registry()),
            notices,
            stages,
            new SocketExpiry(vertx, clock),
            w.registry());
    this.idle = settings.socketIdle();
    this.prekeyRoutes = new PrekeyRoutes(parties, new PrekeyService(new PrekeyStore(), clock));
    WebhookDestinations destinations =
        new WebhookDestinations(vertx, settings.webhookAllowPrivate());
    this.notifier =
        new Notifier(
            vertx,
            db,
            new WebhookDeliveries(),
            destinations,
            settings.webhookFirstRetry(),
            clock,
            w.registry());
    this.auditOutbox = w.auditOutbox(); // the service's: started and stopped by it
    this.messageRoutes =
        new MessageRoutes(
            parties,
            new MessageService(store, w.ids(), clock, w.registry()),
            live,
            w.audit(),
            notifier,
            auditOutbox,
            stages);
    this.webhookRoutes =
        new WebhookRoutes(
            w.auth(), w.tenancy(), webhooks, destinations, clock, settings.webhookAllowHttp());
    w.revocations().onRevoked(live::onRevoked);
  }

  public void register(ApiRoutes routes) {
    prekeyRoutes.register(routes);
    messageRoutes.register(routes);
    webhookRoutes.register(routes);
  }

  /** Starts the periodic retention, idle-socket and webhook delivery sweeps. */
  public void start() {
    notifier.start();
    idleTimer = vertx.setPeriodic(Math.max(100, idle.toMillis() / 3), t -> live.sweepIdle());
    timer =
        vertx.setPeriodic(
            SWEEP_EVERY_MS,
            t ->
                sweep()
                    .onFailure(e -> log.warn("message retention sweep failed: {}", e.toString())));
  }

  /**
   * Deletes every copy (and remembered id) older than the retention period, workspace by workspace
   * (each in its own row-level-security transaction); returns the copies deleted.
   */
  public Future<Integer> sweep() {
    OffsetDateTime before =
        OffsetDateTime.ofInstant(clock.instant().minus(retention), ZoneOffset.UTC);
    return db.withTransaction(
            conn ->
                conn.query("SELECT id FROM workspaces")
                    .execute()
                    .map(
                        rows -> {
                          List<UUID> out = new ArrayList<>();
                          rows.forEach(r -> out.add(r.getUUID("id")));
                          return out;
                        }))
        .compose(
            wss -> Sweeps.inTurn(wss, ws -> db.inWorkspace(ws, conn -> store.sweep(conn, before))));
  }

  public LiveDelivery live() {
    return live;
  }

  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (idleTimer >= 0) {
      vertx.cancelTimer(idleTimer);
    }
    return Future.join(live.stop(), notifier.stop()).mapEmpty();
  }

  /**
   * Closes the live sockets idle for the idle limit or whose session token expired by the clock now
   * (as the periodic sweep does).
   */
  public void sweepSockets() {
    live.sweepIdle();
  }

  /**
   * Sweeps due notification webhook deliveries of every workspace now (as the periodic sweep does);
   * returns how many attempts it started.
   */
  public Future<Integer> sweepWebhooks() {
    return notifier.sweep();
  }

  /**
   * Appends the audit events of sends stored before {@link AuditOutbox#SWEEP_AGE} ago that their
   * instance did not append (as the periodic sweep does); returns how many.
   */
  public Future<Integer> sweepAuditOutbox() {
    return auditOutbox.sweep();
  }
}
