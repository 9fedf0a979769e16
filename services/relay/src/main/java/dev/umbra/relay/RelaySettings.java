package dev.umbra.relay;

import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.relay.wire.RelayWire;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The relay's own settings (docs/relay.md), from {@code UMBRA_RELAY_*} variables.
 *
 * @param maxFrameBytes largest WebSocket message (= one frame) accepted; checked before parsing
 * @param connectionRate new WebSocket connections per second per client IP (token bucket)
 * @param connectionBurst bucket size for connections
 * @param messageRate frames per second per client IP; beyond it the connection is paused (not
 *     dropped)
 * @param messageBurst bucket size for frames
 * @param queueBytes per-connection send queue; a local sender is paused while it is full, a frame
 *     from another instance is dropped and counted
 * @param idle a connection with no frame in either direction for this long is closed
 * @param ping interval of WebSocket pings from the relay
 * @param mesh whether frames for daemons and clients held by other instances go over direct mesh
 *     links ({@code UMBRA_RELAY_MESH=on}, the default) or over Redis pub/sub ({@code off})
 * @param meshUrl {@code UMBRA_RELAY_MESH_URL}: where other instances reach this one's mesh
 *     endpoint; empty: derived from the bind address and port (none when bound to a wildcard)
 * @param meshPort {@code UMBRA_RELAY_MESH_PORT}: the port of a listener of its own for the mesh
 *     endpoint (0: any free port), which then is served there only, and only that listener asks for
 *     client certificates; empty: the mesh endpoint is on the main listener
 */
public record RelaySettings(
    int maxFrameBytes,
    int connectionRate,
    int connectionBurst,
    int messageRate,
    int messageBurst,
    int queueBytes,
    Duration idle,
    Duration ping,
    boolean mesh,
    Optional<URI> meshUrl,
    OptionalInt meshPort) {

  /** The mesh listener's port (docs/relay.md, "Mesh"). */
  public static final String MESH_PORT = "UMBRA_RELAY_MESH_PORT";

  public static RelaySettings from(Env env) {
    int max = env.positiveInt("UMBRA_RELAY_MAX_FRAME_BYTES", RelayWire.DEFAULT_MAX_FRAME_BYTES);
    if (max < RelayWire.MIN_MAX_FRAME_BYTES || max > 16 * 1024 * 1024) {
      throw new ConfigException("UMBRA_RELAY_MAX_FRAME_BYTES", "must be between 1024 and 16777216");
    }
    int queue = env.positiveInt("UMBRA_RELAY_QUEUE_BYTES", 4 * 1024 * 1024);
    if (queue < 2 * max) {
      throw new ConfigException(
          "UMBRA_RELAY_QUEUE_BYTES", "must be at least twice UMBRA_RELAY_MAX_FRAME_BYTES");
    }
    int idle = env.positiveInt("UMBRA_RELAY_IDLE_SECONDS", 120);
    int ping = env.positiveInt("UMBRA_RELAY_PING_SECONDS", 30);
    if (ping >= idle) {
      throw new ConfigException(
          "UMBRA_RELAY_PING_SECONDS", "must be shorter than UMBRA_RELAY_IDLE_SECONDS");
    }
    String mesh = env.string("UMBRA_RELAY_MESH", "on");
    if (!mesh.equals("on") && !mesh.equals("off")) {
      throw new ConfigException("UMBRA_RELAY_MESH", "must be on or off");
    }
    Optional<URI> meshUrl =
        env.optional("UMBRA_RELAY_MESH_URL").isEmpty()
            ? Optional.empty()
            : Optional.of(env.url("UMBRA_RELAY_MESH_URL", null, "ws", "wss"));
    OptionalInt meshPort =
        env.optional(MESH_PORT).isEmpty()
            ? OptionalInt.empty()
            : OptionalInt.of(env.port(MESH_PORT, 0));
    String mainPort = ServiceName.RELAY.envPrefix() + "PORT";
    if (meshPort.isPresent()
        && meshPort.getAsInt() != 0
        && meshPort.getAsInt() == env.port(mainPort, ServiceName.RELAY.defaultPort())) {
      throw new ConfigException(MESH_PORT, "must differ from " + mainPort);
    }
    return new RelaySettings(
        max,
        env.positiveInt("UMBRA_RELAY_CONN_RATE", 20),
        env.positiveInt("UMBRA_RELAY_CONN_BURST", 100),
        env.positiveInt("UMBRA_RELAY_MSG_RATE", 20_000),
        env.positiveInt("UMBRA_RELAY_MSG_BURST", 40_000),
        queue,
        Duration.ofSeconds(idle),
        Duration.ofSeconds(ping),
        mesh.equals("on"),
        meshUrl,
        meshPort);
  }
}
