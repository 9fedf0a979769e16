package dev.umbra.kit.db;

/**
 * PostgreSQL could not be reached in time: no connection (refused, or none within the timeout), no
 * pooled connection free within it, or no answer within it. A request answers 503 {@code
 * unavailable}; what failed may be retried.
 */
public final class DatabaseUnavailableException extends RuntimeException {
  public DatabaseUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * {@code e} as this exception when it says PostgreSQL was not reached (a connection that could
   * not be made, a pool wait that timed out, a connection closed or reset under the work), else
   * {@code e}.
   */
  static Throwable classify(Throwable e) {
    if (e instanceof DatabaseUnavailableException) {
      return e;
    }
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.net.ConnectException
          || t instanceof io.netty.channel.ConnectTimeoutException
          || t instanceof java.util.concurrent.TimeoutException
          || t instanceof io.vertx.sqlclient.ClosedConnectionException
          // the connection reset under the work (PostgreSQL killed, a network reset): Netty's
          // native transport says so with an IOException, which no SQL error is
          || t instanceof java.io.IOException) {
        return new DatabaseUnavailableException("PostgreSQL is unreachable: " + t, e);
      }
    }
    return e;
  }
}
