package dev.umbra.kit.audit;

import dev.umbra.kit.http.ClientAddress;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.audit.Outcome;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.util.Objects;
import java.util.UUID;

/**
 * A typed audit event, started with {@link AuditEmitter#event(AuditAction)}:
 *
 * <pre>{@code
 * audit.event(AuditAction.MACHINE_PAIRED)
 *     .workspace(workspaceId)
 *     .actor(AuditActor.member(accountId))
 *     .target("machine", machineId)
 *     .request(ctx)
 *     .meta("hostname_len", "12")
 *     .success()
 *     .emit();          // never blocks, never fails the request
 * }</pre>
 *
 * An outcome ({@link #success()}, {@link #failure(String)}, {@link #denied(String)}) is required.
 * Metadata is for small envelope facts only: never a payload, key, token or password (keys that
 * look like one are refused, see {@link AuditEventRules}).
 */
public final class AuditEventBuilder {
  public static final String REQUEST_ID_HEADER = "x-request-id";

  private final AuditEmitter emitter;
  private final AuditEvent.Builder event;

  AuditEventBuilder(AuditEmitter emitter, AuditAction action) {
    this.emitter = emitter;
    this.event = AuditEvent.newBuilder().setAction(action.wire());
  }

  public AuditEventBuilder workspace(UUID workspaceId) {
    event.setWorkspaceId(Objects.requireNonNull(workspaceId, "workspaceId").toString());
    return this;
  }

  /** A deployment-level event, kept in the deployment chain (no workspace). */
  public AuditEventBuilder deployment() {
    event.setWorkspaceId("");
    return this;
  }

  public AuditEventBuilder actor(AuditActor actor) {
    event.setActor(actor.toProto());
    return this;
  }

  /** {@code kind:id}, e.g. {@code machine:5f0c...}. */
  public AuditEventBuilder target(String kind, Object id) {
    event.setTarget(kind + ":" + id);
    return this;
  }

  public AuditEventBuilder target(String target) {
    event.setTarget(target);
    return this;
  }

  public AuditEventBuilder sourceIp(String ip) {
    event.setSourceIp(ip == null ? "" : ip);
    return this;
  }

  public AuditEventBuilder requestId(String requestId) {
    event.setRequestId(requestId == null ? "" : requestId);
    return this;
  }

  /**
   * Source IP from the client address ({@link ClientAddress}: the peer, or what a trusted proxy
   * forwarded) and request id from {@code X-Request-Id} when present.
   */
  public AuditEventBuilder request(RoutingContext ctx) {
    sourceIp(ClientAddress.forAudit(ctx));
    String rid = ctx.request().getHeader(REQUEST_ID_HEADER);
    if (rid != null
        && rid.length() <= AuditEventRules.MAX_ID_CHARS
        && !AuditEventRules.hasControl(rid)) {
      requestId(rid);
    }
    return this;
  }

  public AuditEventBuilder meta(String key, String value) {
    event.putMetadata(key, value);
    return this;
  }

  public AuditEventBuilder success() {
    event.setOutcome(Outcome.OUTCOME_SUCCESS);
    return this;
  }

  /** Failed on our side or the caller's; {@code reason} is a short code such as {@code expired}. */
  public AuditEventBuilder failure(String reason) {
    event.setOutcome(Outcome.OUTCOME_FAILURE);
    return reason(reason);
  }

  /** Refused for lack of rights or a bad credential; {@code reason} is a short code. */
  public AuditEventBuilder denied(String reason) {
    event.setOutcome(Outcome.OUTCOME_DENIED);
    return reason(reason);
  }

  private AuditEventBuilder reason(String reason) {
    if (reason != null && !reason.isEmpty()) {
      event.putMetadata("reason", reason);
    }
    return this;
  }

  /** The protobuf builder as it stands (id, time and service are filled by the emitter). */
  public AuditEvent.Builder proto() {
    return event;
  }

  /** Appends the event to the ingest stream; see {@link AuditEmitter#emit(AuditEvent.Builder)}. */
  public Future<String> emit() {
    return emitter.emit(event);
  }

  /** The event ready to append later; see {@link AuditEmitter#prepare(AuditEvent.Builder)}. */
  public AuditEvent prepare() {
    return emitter.prepare(event);
  }
}
