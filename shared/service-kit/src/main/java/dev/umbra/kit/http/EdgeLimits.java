package dev.umbra.kit.http;

import dev.umbra.kit.config.Env;
import java.time.Duration;

/**
 * The bounds every service's HTTP server enforces before a request reaches a route
 * (docs/configuration.md, docs/security.md "Network edge").
 *
 * @param idleTimeout a connection that reads and writes nothing for this long is closed ({@code
 *     UMBRA_HTTP_IDLE_TIMEOUT_MS}); WebSockets of ours ping well within it
 * @param requestTimeout a request's head and body must have arrived this long after the connection
 *     opened or the previous response ended ({@code UMBRA_HTTP_REQUEST_TIMEOUT_MS}): a slowloris
 *     client trickling bytes is closed however often it sends one
 * @param maxConnections open connections per service, over all clients ({@code
 *     UMBRA_HTTP_MAX_CONNECTIONS})
 * @param maxConnectionsPerIp open connections per peer address ({@code
 *     UMBRA_HTTP_MAX_CONNECTIONS_PER_IP}); a peer that is a trusted proxy ({@code
 *     UMBRA_TRUSTED_PROXIES}) counts against the global cap only
 * @param adminFailuresPerMinute failed {@code /admin/logs} tokens per client address per minute
 *     before 429 ({@code UMBRA_ADMIN_FAILURES_PER_MINUTE})
 */
public record EdgeLimits(
    Duration idleTimeout,
    Duration requestTimeout,
    int maxConnections,
    int maxConnectionsPerIp,
    int adminFailuresPerMinute) {

  public static final String IDLE_TIMEOUT_ENV = "UMBRA_HTTP_IDLE_TIMEOUT_MS";
  public static final String REQUEST_TIMEOUT_ENV = "UMBRA_HTTP_REQUEST_TIMEOUT_MS";
  public static final String MAX_CONNECTIONS_ENV = "UMBRA_HTTP_MAX_CONNECTIONS";
  public static final String MAX_CONNECTIONS_PER_IP_ENV = "UMBRA_HTTP_MAX_CONNECTIONS_PER_IP";
  public static final String ADMIN_FAILURES_ENV = "UMBRA_ADMIN_FAILURES_PER_MINUTE";

  public static final int DEFAULT_IDLE_TIMEOUT_MS = 60_000;
  public static final int DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

  /**
   * How long our services' HTTP clients keep an answered connection for reuse: well below the
   * default idle timeout, so the server never closes a connection its client is about to reuse
   * (that race failed requests as "connection closed"; {@code ConnectionGuard#keepAliveWait}).
   */
  public static final int CLIENT_KEEP_ALIVE_SECONDS = 20;

  /**
   * Five services share one process's descriptors in dev mode (often 20,000): 5 x 3,000 stays
   * under.
   */
  public static final int DEFAULT_MAX_CONNECTIONS = 3_000;

  public static final int DEFAULT_MAX_CONNECTIONS_PER_IP = 200;
  public static final int DEFAULT_ADMIN_FAILURES_PER_MINUTE = 10;

  public EdgeLimits {
    if (idleTimeout.isNegative()
        || idleTimeout.isZero()
        || requestTimeout.isNegative()
        || requestTimeout.isZero()) {
      throw new IllegalArgumentException("timeouts must be positive");
    }
    if (maxConnections <= 0 || maxConnectionsPerIp <= 0 || adminFailuresPerMinute <= 0) {
      throw new IllegalArgumentException("limits must be positive");
    }
  }

  public static EdgeLimits from(Env env) {
    return new EdgeLimits(
        Duration.ofMillis(env.positiveInt(IDLE_TIMEOUT_ENV, DEFAULT_IDLE_TIMEOUT_MS)),
        Duration.ofMillis(env.positiveInt(REQUEST_TIMEOUT_ENV, DEFAULT_REQUEST_TIMEOUT_MS)),
        env.positiveInt(MAX_CONNECTIONS_ENV, DEFAULT_MAX_CONNECTIONS),
        env.positiveInt(MAX_CONNECTIONS_PER_IP_ENV, DEFAULT_MAX_CONNECTIONS_PER_IP),
        env.positiveInt(ADMIN_FAILURES_ENV, DEFAULT_ADMIN_FAILURES_PER_MINUTE));
  }
}
