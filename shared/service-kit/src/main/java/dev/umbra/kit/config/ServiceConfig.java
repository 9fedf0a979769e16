package dev.umbra.kit.config;

import dev.umbra.kit.http.TrustedProxies;
import dev.umbra.kit.tls.ServiceTls;
import java.net.URI;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a service reads from the environment, validated once at start.
 *
 * <p>Variables: {@code UMBRA_PG_URL}, {@code UMBRA_REDIS_URL}, {@code UMBRA_HOME}, {@code
 * UMBRA_BIND_HOST}, {@code UMBRA_<SERVICE>_PORT}, {@code UMBRA_<SERVICE>_URL} (public URL used in
 * discovery), {@code UMBRA_ADMIN_TOKEN}, {@code UMBRA_BUS_PREFIX}, {@code UMBRA_PG_APP_ROLE},
 * {@code UMBRA_PG_APP_URL} (the login role requests connect as; see docs/tenancy.md), {@code
 * UMBRA_TRUSTED_PROXIES} (whose {@code X-Forwarded-For} to believe; none by default), and the
 * {@code UMBRA_TLS_*} settings of {@link ServiceTls}.
 */
public record ServiceConfig(
    ServiceName service,
    String bindHost,
    int port,
    URI pgUrl,
    Optional<URI> pgAppUrl,
    URI redisUrl,
    Path home,
    Optional<String> adminToken,
    String busPrefix,
    String pgAppRole,
    Map<ServiceName, URI> publicUrls,
    TrustedProxies trustedProxies,
    ServiceTls tls,
    Env env) {

  public static final String DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/umbra";
  public static final String DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

  public ServiceConfig {
    publicUrls = Map.copyOf(publicUrls);
  }

  public static ServiceConfig load(ServiceName service, Env env) {
    String bindHost = env.string("UMBRA_BIND_HOST", "0.0.0.0");
    int port = env.port(service.envPrefix() + "PORT", service.defaultPort());
    URI pg = env.url("UMBRA_PG_URL", DEFAULT_PG_URL, "postgresql", "postgres");
    Optional<URI> pgApp =
        env.optional("UMBRA_PG_APP_URL").isEmpty()
            ? Optional.empty()
            : Optional.of(env.url("UMBRA_PG_APP_URL", null, "postgresql", "postgres"));
    URI redis = RedisUrl.check("UMBRA_REDIS_URL", env.string("UMBRA_REDIS_URL", DEFAULT_REDIS_URL));
    Path home = env.path("UMBRA_HOME", Path.of(System.getProperty("user.home"), ".umbra"));
    Optional<String> admin = env.optional("UMBRA_ADMIN_TOKEN");
    if (admin.isPresent() && admin.get().length() < 16) {
      throw new ConfigException("UMBRA_ADMIN_TOKEN", "must be at least 16 characters");
    }
    String prefix = env.string("UMBRA_BUS_PREFIX", "");
    if (!prefix.matches("[A-Za-z0-9_.:-]{0,64}")) {
      throw new ConfigException(
          "UMBRA_BUS_PREFIX", "only letters, digits and _ . : - (at most 64)");
    }
    String role = env.string("UMBRA_PG_APP_ROLE", "umbra_app");
    if (!role.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new ConfigException("UMBRA_PG_APP_ROLE", "must be a lowercase SQL identifier");
    }
    if (pgApp.isPresent()) {
      String user =
          pgApp.get().getRawUserInfo() == null ? "" : pgApp.get().getRawUserInfo().split(":", 2)[0];
      if (!user.matches("[a-z_][a-z0-9_]{0,62}")) {
        throw new ConfigException(
            "UMBRA_PG_APP_URL", "must name its user, a lowercase SQL identifier");
      }
      if (env.optional("UMBRA_PG_APP_ROLE").isPresent() && !user.equals(role)) {
        throw new ConfigException(
            "UMBRA_PG_APP_ROLE",
            "differs from the user of UMBRA_PG_APP_URL; set only UMBRA_PG_APP_URL");
      }
      role = user;
    }
    ServiceTls tls = ServiceTls.load(env);
    Map<ServiceName, URI> urls = new EnumMap<>(ServiceName.class);
    for (ServiceName s : ServiceName.values()) {
      int p = s == service ? port : env.port(s.envPrefix() + "PORT", s.defaultPort());
      // one TLS setting for all services of a deployment: with it on, the defaults are https
      String fallback = tls.scheme() + "://127.0.0.1:" + p;
      urls.put(s, env.url(s.envPrefix() + "URL", fallback, "http", "https"));
    }
    TrustedProxies proxies = TrustedProxies.parse(env.optional(TrustedProxies.ENV).orElse(""));
    return new ServiceConfig(
        service, bindHost, port, pg, pgApp, redis, home, admin, prefix, role, urls, proxies, tls,
        env);
  }

  /** A copy listening on another port (tests use 0 for an ephemeral port). */
  public ServiceConfig withPort(int newPort) {
    return new ServiceConfig(
        service,
        bindHost,
        newPort,
        pgUrl,
        pgAppUrl,
        redisUrl,
        home,
        adminToken,
        busPrefix,
        pgAppRole,
        publicUrls,
        trustedProxies,
        tls,
        env);
  }

  public ServiceConfig withPublicUrl(ServiceName name, URI url) {
    Map<ServiceName, URI> urls = new EnumMap<>(publicUrls);
    urls.put(name, url);
    return new ServiceConfig(
        service,
        bindHost,
        port,
        pgUrl,
        pgAppUrl,
        redisUrl,
        home,
        adminToken,
        busPrefix,
        pgAppRole,
        urls,
        trustedProxies,
        tls,
        env);
  }
}
