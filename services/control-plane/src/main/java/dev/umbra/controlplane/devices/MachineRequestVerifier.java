package dev.umbra.controlplane.devices;

import dev.umbra.kit.http.Requests;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlConnection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * The steps every route a daemon signs with its binding key takes (docs/machines.md): read the body
 * (the common members of {@link MachineRequest#schema()} and the route's own, nothing else), parse
 * the envelope (the timestamp within {@link MachineRequest#MAX_SKEW}), then check the signature
 * over the bytes the route defines in {@code MachineRequests} — in the workspace's transaction, the
 * machine present and not revoked, failures counted per IP — and do the route's work in that same
 * transaction.
 */
public final class MachineRequestVerifier {
  private static final List<String> COMMON =
      List.of("workspace_id", "machine_id", "timestamp_ms", "signature");

  /** The bytes a route's request is signed over, given its workspace, machine and timestamp. */
  @FunctionalInterface
  public interface Message {
    byte[] of(UUID workspaceId, UUID machineId, long timestampMs);
  }

  private final MachineRequest.Checker checker;

  public MachineRequestVerifier(MachineRequest.Checker checker) {
    this.checker = checker;
  }

  /** A request read and its envelope parsed; its signature not checked yet. */
  public final class Incoming {
    private final RoutingContext ctx;
    private final MachineRequest request;
    private final JsonObject body;

    private Incoming(RoutingContext ctx, MachineRequest request, JsonObject body) {
      this.ctx = ctx;
      this.request = request;
      this.body = body;
    }

    public MachineRequest request() {
      return request;
    }

    public UUID workspaceId() {
      return request.workspaceId();
    }

    public UUID machineId() {
      return request.machineId();
    }

    /** The body, with the route's own members. */
    public JsonObject body() {
      return body;
    }

    /**
     * Checks the signature over {@code message} inside the workspace (401 when the machine is
     * unknown, revoked, or the signature does not verify), then runs {@code work} in the same
     * transaction.
     */
    public <T> Future<T> verified(Message message, Function<SqlConnection, Future<T>> work) {
      return request.run(
          checker,
          ctx,
          message.of(request.workspaceId(), request.machineId(), request.timestampMs()),
          work);
    }
  }

  /**
   * Reads the body of a machine request whose route adds the members {@code own}; refuses an
   * unknown member, a malformed envelope or a stale timestamp (before anything is looked up).
   */
  public Incoming read(RoutingContext ctx, String... own) {
    Set<String> allowed = new HashSet<>(COMMON);
    allowed.addAll(List.of(own));
    JsonObject body = Requests.body(ctx, allowed);
    return new Incoming(ctx, MachineRequest.parse(checker.clock(), body), body);
  }
}
