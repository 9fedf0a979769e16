package dev.umbra.daemon.run;

import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * What a running daemon last knew, for {@code umbra daemon status} (docs/deploy.md, "Status"): its
 * process, when it started, its last heartbeat, and per binding whether the control plane took its
 * check-in, whether its relay and WebTTY engine connections are up, and the keyset version of its
 * trust pin. Written by {@link DaemonRunner} at start and after every heartbeat to {@code
 * UMBRA_HOME/daemon/status.json} (0600 in a 0700 directory); holds no key, token or payload.
 */
public record DaemonStatus(
    String version, long pid, Instant startedAt, Instant lastHeartbeat, List<Binding> bindings) {

  public static final String FILE = "daemon/status.json";

  public DaemonStatus {
    bindings = List.copyOf(bindings);
  }

  /**
   * One binding's state. {@code checkInError} is empty when the last check-in succeeded; {@code
   * pinVersion} is empty when the workspace has no keyset (or no sync succeeded yet).
   */
  public record Binding(
      UUID machineId,
      UUID workspaceId,
      String name,
      Optional<String> checkInError,
      boolean relayConnected,
      boolean engineConnected,
      Optional<Long> pinVersion) {

    public JsonObject toJson() {
      JsonObject o =
          new JsonObject()
              .put("machine_id", machineId.toString())
              .put("workspace_id", workspaceId.toString())
              .put("name", name)
              .put("checked_in", checkInError.isEmpty())
              .put("relay_connected", relayConnected)
              .put("engine_connected", engineConnected);
      checkInError.ifPresent(e -> o.put("check_in_error", e));
      pinVersion.ifPresent(v -> o.put("trust_pin_version", v));
      return o;
    }

    static Binding fromJson(JsonObject o) {
      return new Binding(
          UUID.fromString(o.getString("machine_id")),
          UUID.fromString(o.getString("workspace_id")),
          o.getString("name", ""),
          Optional.ofNullable(o.getString("check_in_error")),
          o.getBoolean("relay_connected", false),
          o.getBoolean("engine_connected", false),
          Optional.ofNullable(o.getLong("trust_pin_version")));
    }
  }

  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    bindings.forEach(b -> list.add(b.toJson()));
    return new JsonObject()
        .put("version", version)
        .put("pid", pid)
        .put("started_at", startedAt.toString())
        .put("last_heartbeat", lastHeartbeat.toString())
        .put("bindings", list);
  }

  public static DaemonStatus fromJson(JsonObject o) {
    return new DaemonStatus(
        o.getString("version", ""),
        o.getLong("pid", 0L),
        Instant.parse(o.getString("started_at")),
        Instant.parse(o.getString("last_heartbeat")),
        o.getJsonArray("bindings", new JsonArray()).stream()
            .map(x -> Binding.fromJson((JsonObject) x))
            .toList());
  }

  /** Writes this status under {@code home} (0600 file in a 0700 directory), replacing the last. */
  public void write(Path home) {
    Path file = home.resolve(FILE);
    KeyFiles.ensurePrivateDirectories(home, file.getParent());
    try {
      PrivateFiles.replace(file, toJson().encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The status a daemon with {@code home} last wrote, if any. */
  public static Optional<DaemonStatus> read(Path home) {
    try {
      return Optional.of(fromJson(new JsonObject(Files.readString(home.resolve(FILE)))));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
