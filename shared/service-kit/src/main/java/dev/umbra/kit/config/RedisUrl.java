package dev.umbra.kit.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where Redis is, from one URL ({@code UMBRA_REDIS_URL}, docs/configuration.md):
 *
 * <ul>
 *   <li>{@code redis://[user:password@]host:port[/db]} (or {@code rediss://} for TLS): one node;
 *   <li>{@code redis-sentinel://[user:password@]host:port,host:port/master}: the master that the
 *       listed Sentinels name, followed through failovers;
 *   <li>{@code redis-cluster://[user:password@]host:port,host:port,...}: a Redis Cluster, found
 *       from any of the listed seed nodes.
 * </ul>
 *
 * <p>A {@code rediss-} prefix ({@code rediss-sentinel}, {@code rediss-cluster}) speaks TLS to every
 * node. Credentials apply to every node. Errors name the variable and never echo the value (it may
 * hold a password).
 */
public record RedisUrl(Mode mode, List<Endpoint> endpoints, Optional<String> masterName) {

  /** How the bus finds its Redis. */
  public enum Mode {
    SINGLE,
    SENTINEL,
    CLUSTER
  }

  /** One node: {@code scheme} is {@code redis} or {@code rediss}; userInfo and db may be empty. */
  public record Endpoint(String scheme, String userInfo, String host, int port, String db) {
    /** The node as the Redis client's connection string (may hold the password: never log it). */
    public String connectionString() {
      return scheme
          + "://"
          + (userInfo.isEmpty() ? "" : userInfo + "@")
          + hostPort()
          + (db.isEmpty() ? "" : "/" + db);
    }

    public String hostPort() {
      return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  public RedisUrl {
    endpoints = List.copyOf(endpoints);
  }

  /** The endpoints' connection strings, in order. */
  public List<String> connectionStrings() {
    return endpoints.stream().map(Endpoint::connectionString).toList();
  }

  /** Where Redis is, for messages and logs: mode and host:port list, never credentials. */
  public String describe() {
    String hosts = String.join(",", endpoints.stream().map(Endpoint::hostPort).toList());
    return switch (mode) {
      case SINGLE -> hosts;
      case SENTINEL -> "Sentinel " + hosts + " (master " + masterName.orElseThrow() + ")";
      case CLUSTER -> "Cluster " + hosts;
    };
  }

  /** Parses the URL of {@code variable}; a {@link ConfigException} names what is wrong. */
  public static RedisUrl parse(String variable, String raw) {
    int sep = raw.indexOf("://");
    if (sep <= 0) {
      throw new ConfigException(variable, "not a Redis URL; " + FORMS);
    }
    String scheme = raw.substring(0, sep).toLowerCase(Locale.ROOT);
    String rest = raw.substring(sep + 3);
    boolean tls = scheme.startsWith("rediss");
    String nodeScheme = tls ? "rediss" : "redis";
    return switch (scheme) {
      case "redis", "rediss" ->
          new RedisUrl(Mode.SINGLE, List.of(single(variable, raw)), Optional.empty());
      case "redis-sentinel", "rediss-sentinel" -> sentinel(variable, nodeScheme, rest);
      case "redis-cluster", "rediss-cluster" -> cluster(variable, nodeScheme, rest);
      default ->
          throw new ConfigException(
              variable, "URL scheme '" + scheme + "' is not supported; " + FORMS);
    };
  }

  /**
   * Checks the URL of {@code variable} and returns it as a URI (a host list is a registry-based
   * authority, so {@link URI#getHost()} is null for the Sentinel and Cluster forms).
   */
  public static URI check(String variable, String raw) {
    parse(variable, raw);
    try {
      return new URI(raw);
    } catch (URISyntaxException e) {
      throw new ConfigException(variable, "not a valid URL (" + e.getReason() + ")");
    }
  }

  /** Parses an already validated URL (as {@link ServiceConfig#redisUrl()} holds). */
  public static RedisUrl parse(URI url) {
    return parse("UMBRA_REDIS_URL", url.toString());
  }

  private static final String FORMS =
      "use redis://host:port, redis-sentinel://host:port,host:port/master or"
          + " redis-cluster://host:port,host:port,...";

  private static Endpoint single(String variable, String raw) {
    URI uri;
    try {
      uri = new URI(raw);
    } catch (URISyntaxException e) {
      throw new ConfigException(variable, "not a valid URL (" + e.getReason() + ")");
    }
    if (uri.getHost() == null) {
      throw new ConfigException(
          variable, "URL has no host (several hosts need redis-sentinel:// or redis-cluster://)");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String db = path.startsWith("/") ? path.substring(1) : path;
    if (!db.matches("\\d{0,2}")) {
      throw new ConfigException(variable, "the path of a redis:// URL is a database number");
    }
    String user = uri.getRawUserInfo() == null ? "" : uri.getRawUserInfo();
    int port = uri.getPort() < 0 ? 6379 : uri.getPort();
    return new Endpoint(uri.getScheme().toLowerCase(Locale.ROOT), user, uri.getHost(), port, db);
  }

  private static RedisUrl sentinel(String variable, String scheme, String rest) {
    int slash = rest.indexOf('/');
    String master = slash < 0 ? "" : rest.substring(slash + 1);
    if (!master.matches("[A-Za-z0-9_.-]{1,64}")) {
      throw new ConfigException(
          variable,
          "a redis-sentinel URL names its master after the hosts:"
              + " redis-sentinel://host:port,host:port/master");
    }
    List<Endpoint> sentinels = hosts(variable, scheme, rest.substring(0, slash), 26379);
    return new RedisUrl(Mode.SENTINEL, sentinels, Optional.of(master));
  }

  private static RedisUrl cluster(String variable, String scheme, String rest) {
    int slash = rest.indexOf('/');
    if (slash >= 0 && slash < rest.length() - 1) {
      throw new ConfigException(
          variable, "a redis-cluster URL has no path (a Cluster has only database 0)");
    }
    String authority = slash < 0 ? rest : rest.substring(0, slash);
    return new RedisUrl(
        Mode.CLUSTER, hosts(variable, scheme, authority, 6379), Optional.<String>empty());
  }

  private static List<Endpoint> hosts(
      String variable, String scheme, String authority, int defaultPort) {
    int at = authority.lastIndexOf('@');
    String user = at < 0 ? "" : authority.substring(0, at);
    String list = at < 0 ? authority : authority.substring(at + 1);
    List<Endpoint> out = new ArrayList<>();
    for (String hostPort : list.split(",", -1)) {
      out.add(endpoint(variable, scheme, user, hostPort.trim(), defaultPort));
    }
    return out;
  }

  private static Endpoint endpoint(
      String variable, String scheme, String user, String hostPort, int defaultPort) {
    URI uri;
    try {
      uri = new URI(scheme + "://" + hostPort);
    } catch (URISyntaxException e) {
      throw new ConfigException(
          variable, "a host in the list is not valid (" + e.getReason() + ")");
    }
    if (hostPort.isEmpty() || uri.getHost() == null || uri.getRawPath().length() > 0) {
      throw new ConfigException(
          variable, "every entry of the host list must be host or host:port, comma-separated");
    }
    return new Endpoint(
        scheme, user, uri.getHost(), uri.getPort() < 0 ? defaultPort : uri.getPort(), "");
  }
}
