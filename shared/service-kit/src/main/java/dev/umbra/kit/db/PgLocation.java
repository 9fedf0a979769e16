package dev.umbra.kit.db;

import io.vertx.pgclient.PgConnectOptions;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * Where a PostgreSQL database is, parsed from a {@code postgresql://user:pass@host:port/db} URL.
 * {@link #toString()} never shows the password.
 */
public record PgLocation(String host, int port, String database, String user, String password) {

  public static PgLocation parse(URI url) {
    String userInfo = url.getRawUserInfo();
    String user = "postgres";
    String password = null;
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
    }
    String path = url.getPath() == null ? "" : url.getPath();
    String db = path.startsWith("/") ? path.substring(1) : path;
    if (db.isEmpty()) {
      db = "umbra";
    }
    return new PgLocation(
        url.getHost(), url.getPort() < 0 ? 5432 : url.getPort(), db, user, password);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  public PgLocation withDatabase(String other) {
    return new PgLocation(host, port, other, user, password);
  }

  /** The same server and database as another user (password null: none). */
  public PgLocation withUser(String otherUser, String otherPassword) {
    return new PgLocation(host, port, database, otherUser, otherPassword);
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  public Properties jdbcProperties() {
    Properties p = new Properties();
    p.setProperty("user", user);
    if (password != null) {
      p.setProperty("password", password);
    }
    return p;
  }

  public PgConnectOptions connectOptions() {
    PgConnectOptions o =
        new PgConnectOptions().setHost(host).setPort(port).setDatabase(database).setUser(user);
    if (password != null) {
      o.setPassword(password);
    }
    return o;
  }

  /** A URL for this location, for handing to a child process; it includes the password. */
  public URI toUri() {
    String auth = password == null ? user : user + ":" + password;
    return URI.create("postgresql://" + auth + "@" + host + ":" + port + "/" + database);
  }

  @Override
  public String toString() {
    return "postgresql://" + user + "@" + host + ":" + port + "/" + database;
  }
}
