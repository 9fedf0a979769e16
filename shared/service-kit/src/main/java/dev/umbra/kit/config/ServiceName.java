package dev.umbra.kit.config;

/** The five services, their default ports (DESIGN.md §1) and the PostgreSQL schema each owns. */
public enum ServiceName {
  CONTROL_PLANE("control-plane", 8080, "control_plane"),
  RELAY("relay", 8081, null),
  PAIRING("pairing", 8082, "pairing"),
  AUDIT("audit", 8083, "audit"),
  WEBTTY_ENGINE("webtty-engine", 8084, "webtty");

  private final String id;
  private final int defaultPort;
  private final String schema;

  ServiceName(String id, int defaultPort, String schema) {
    this.id = id;
    this.defaultPort = defaultPort;
    this.schema = schema;
  }

  public String id() {
    return id;
  }

  public int defaultPort() {
    return defaultPort;
  }

  /** The schema this service owns, or null when it keeps nothing in PostgreSQL (the relay). */
  public String schema() {
    return schema;
  }

  public boolean usesPostgres() {
    return schema != null;
  }

  /** Prefix of this service's own env variables, e.g. {@code UMBRA_WEBTTY_ENGINE_}. */
  public String envPrefix() {
    return "UMBRA_" + id.toUpperCase().replace('-', '_') + "_";
  }
}
