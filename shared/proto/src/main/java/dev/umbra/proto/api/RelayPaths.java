package dev.umbra.proto.api;

/**
 * The relay's path (docs/relay.md), in one place for the service and its clients (the daemon's
 * registration, the CLI's channels): a WebSocket upgrade with a session token.
 */
public final class RelayPaths {
  /** The one WebSocket endpoint, for daemons and clients alike. */
  public static final String RELAY = "/v1/relay";

  private RelayPaths() {}
}
