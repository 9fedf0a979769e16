package dev.umbra.client.binding;

import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.proto.api.ApiFailure;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A binding's requests to the control plane's machine routes (docs/machines.md): each body carries
 * the workspace, the machine, a timestamp and the binding key's signature over the bytes the route
 * defines in {@code MachineRequests}, then the route's own members. A refusal comes back as a
 * {@link Failed} with a {@link Failure} kind and whether asking again may help.
 */
public final class MachineClient {
  /** The bytes a route signs, given the binding's workspace and machine and the timestamp. */
  @FunctionalInterface
  public interface Message {
    byte[] of(UUID workspaceId, UUID machineId, long timestampMs);
  }

  /** Why the control plane did not take a request. */
  public enum Failure {
    /** not answered: unreachable, a 5xx, too many requests (asking again may help) */
    UNREACHABLE,
    /** 400: the request is not one the route takes */
    BAD_REQUEST,
    /** 401/403: the machine is unknown, revoked, or the signature does not verify */
    MACHINE_REFUSED,
    /** 404 */
    NOT_FOUND,
    /** any other answer (e.g. 409) */
    REFUSED;

    /** The code on the wire: the lower-case name. */
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A request the control plane did not take: why, and whether asking again may help. */
  public static final class Failed extends Exception {
    private final Failure failure;
    private final int status;

    public Failed(Failure failure, int status, String message) {
      super(message);
      this.failure = failure;
      this.status = status;
    }

    public Failure failure() {
      return failure;
    }

    /** The HTTP status (0 when there was no answer). */
    public int status() {
      return status;
    }

    public boolean retryable() {
      return failure == Failure.UNREACHABLE;
    }
  }

  private final JsonHttp http;
  private final Binding binding;
  private final Supplier<Ed25519KeyPair> signing;
  private final Clock clock;

  public MachineClient(
      JsonHttp http, Binding binding, Supplier<Ed25519KeyPair> signing, Clock clock) {
    this.http = http;
    this.binding = binding;
    this.signing = signing;
    this.clock = clock;
  }

  public Binding binding() {
    return binding;
  }

  /**
   * Blocking: POSTs {@code members} and the signed envelope over {@code message} to {@code path} of
   * the binding's control plane; its JSON answer.
   */
  public JsonObject post(String path, Message message, JsonObject members) throws Failed {
    long ts = clock.millis();
    JsonObject body =
        TrustSync.signedBody(
            binding, signing.get(), ts, message.of(binding.workspaceId(), binding.machineId(), ts));
    members.forEach(e -> body.put(e.getKey(), e.getValue()));
    try {
      return http.post(JsonHttp.resolve(binding.controlPlaneUrl(), path), null, body);
    } catch (ApiFailure e) {
      throw new Failed(failure(e.status()), e.status(), e.getMessage());
    } catch (RuntimeException e) {
      throw new Failed(Failure.UNREACHABLE, 0, String.valueOf(e.getMessage()));
    }
  }

  /** The kind of failure an HTTP status (0: no answer) means. */
  static Failure failure(int status) {
    if (status == 0 || status == 429 || status >= 500) {
      return Failure.UNREACHABLE;
    }
    return switch (status) {
      case 400 -> Failure.BAD_REQUEST;
      case 401, 403 -> Failure.MACHINE_REFUSED;
      case 404 -> Failure.NOT_FOUND;
      default -> Failure.REFUSED;
    };
  }
}
