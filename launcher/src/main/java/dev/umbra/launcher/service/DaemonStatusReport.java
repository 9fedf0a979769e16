package dev.umbra.launcher.service;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.daemon.run.DaemonRunner;
import dev.umbra.daemon.run.DaemonStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What {@code umbra daemon status} shows: the bindings of a UMBRA_HOME, the status its daemon last
 * wrote ({@link DaemonStatus}), and whether that is recent enough to call the daemon running (a
 * heartbeat within three heartbeat periods).
 */
record DaemonStatusReport(
    Path home, List<Binding> bindings, Optional<DaemonStatus> status, Duration sinceHeartbeat) {

  static final Duration STALE_AFTER = DaemonRunner.HEARTBEAT.multipliedBy(3);

  static DaemonStatusReport of(Path home, Clock clock) {
    List<Binding> bindings = Files.isDirectory(home) ? new BindingStore(home).list() : List.of();
    Optional<DaemonStatus> status = DaemonStatus.read(home);
    Duration since =
        status.map(s -> Duration.between(s.lastHeartbeat(), clock.instant())).orElse(Duration.ZERO);
    return new DaemonStatusReport(home, bindings, status, since);
  }

  boolean running() {
    return status.isPresent() && sinceHeartbeat.compareTo(STALE_AFTER) <= 0;
  }

  Optional<DaemonStatus.Binding> reported(Binding b) {
    return status.flatMap(
        s -> s.bindings().stream().filter(x -> x.machineId().equals(b.machineId())).findFirst());
  }

  JsonObject toJson() {
    JsonArray list = new JsonArray();
    for (Binding b : bindings) {
      JsonObject o =
          new JsonObject()
              .put("machine_id", b.machineId().toString())
              .put("workspace_id", b.workspaceId().toString())
              .put("name", b.name())
              .put("control_plane_url", b.controlPlaneUrl());
      reported(b).ifPresent(r -> o.mergeIn(r.toJson()));
      list.add(o);
    }
    JsonObject o =
        new JsonObject()
            .put("home", home.toString())
            .put("running", running())
            .put("bindings", list);
    status.ifPresent(
        s ->
            o.put("pid", s.pid())
                .put("version", s.version())
                .put("started_at", s.startedAt().toString())
                .put("last_heartbeat", s.lastHeartbeat().toString())
                .put("seconds_since_heartbeat", sinceHeartbeat.toSeconds()));
    return o;
  }

  String text() {
    StringBuilder t = new StringBuilder();
    if (status.isEmpty()) {
      t.append("daemon: no status in ")
          .append(home)
          .append(
              " (no daemon has run with this UMBRA_HOME; the service's: --home /var/lib/umbra)");
    } else {
      DaemonStatus s = status.get();
      t.append(running() ? "daemon: running" : "daemon: not running (its last status is stale)")
          .append(", pid ")
          .append(s.pid())
          .append(", ")
          .append(s.version())
          .append(", started ")
          .append(s.startedAt())
          .append(", last heartbeat ")
          .append(sinceHeartbeat.toSeconds())
          .append(" s ago");
    }
    t.append("\nbindings: ").append(bindings.size());
    for (Binding b : bindings) {
      t.append("\n  ")
          .append(b.name())
          .append("  machine ")
          .append(b.machineId())
          .append("  workspace ")
          .append(b.workspaceId())
          .append("  control plane ")
          .append(b.controlPlaneUrl());
      Optional<DaemonStatus.Binding> r = reported(b);
      if (r.isEmpty()) {
        t.append("\n    (nothing reported by the daemon)");
        continue;
      }
      DaemonStatus.Binding x = r.get();
      t.append("\n    check-in ")
          .append(x.checkInError().map(e -> "failed: " + e).orElse("ok"))
          .append("; relay ")
          .append(x.relayConnected() ? "connected" : "not connected")
          .append("; WebTTY engine ")
          .append(x.engineConnected() ? "connected" : "not connected")
          .append("; trust pin ")
          .append(x.pinVersion().map(v -> "keyset version " + v).orElse("none"));
    }
    return t.toString();
  }
}
