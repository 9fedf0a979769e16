package dev.umbra.controlplane.sessions;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.kit.db.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * This instance's session-token signing keys. The private key lives only in {@code
 * $UMBRA_HOME/control-plane/signing/<created-ms>-<kid>.key} (0600 in 0700); its public half goes to
 * the {@code signing_keys} table, from which every instance serves the same JWKS. A key signs for
 * {@link #ROTATE_AFTER}, then a new one takes over; the old public key stays published until every
 * token it signed has expired, so rotation never breaks a live token.
 */
public final class SigningKeys {
  public static final Duration ROTATE_AFTER = Duration.ofHours(24);
  private static final Duration PUBLISH_MARGIN = Duration.ofMinutes(5);

  /** The key this instance signs with now. */
  public record Active(String kid, Ed25519KeyPair pair, Instant createdAt) {
    @Override
    public String toString() {
      return "SigningKey[" + kid + "]";
    }
  }

  private final Vertx vertx;
  private final Database db;
  private final Path dir;
  private final Clock clock;
  private final Duration tokenTtl;
  private volatile Active current;

  private SigningKeys(Vertx vertx, Database db, Path dir, Clock clock, Duration tokenTtl) {
    this.vertx = vertx;
    this.db = db;
    this.dir = dir;
    this.clock = clock;
    this.tokenTtl = tokenTtl;
  }

  /** Loads this instance's newest key (or makes one) and publishes its public half. */
  public static Future<SigningKeys> open(
      Vertx vertx, Database db, Path dir, Clock clock, Duration tokenTtl) {
    SigningKeys keys = new SigningKeys(vertx, db, dir, clock, tokenTtl);
    return vertx
        .executeBlocking(keys::loadNewest, false)
        .compose(found -> found == null || keys.due(found) ? keys.rotate() : keys.publish(found))
        .map(keys);
  }

  public Active current() {
    return current;
  }

  public Duration tokenTtl() {
    return tokenTtl;
  }

  private boolean due(Active a) {
    return !clock.instant().isBefore(a.createdAt().plus(ROTATE_AFTER));
  }

  /** Rotates when the current key has signed long enough; run periodically. */
  public Future<Void> rotateIfDue() {
    return current != null && due(current) ? rotate() : Future.succeededFuture();
  }

  /** Makes a new key, publishes it, then signs with it; the previous key stays published. */
  public Future<Void> rotate() {
    return vertx.executeBlocking(this::generate, false).compose(this::publish);
  }

  private Future<Void> publish(Active a) {
    Instant signsUntil = a.createdAt().plus(ROTATE_AFTER);
    Instant publishedUntil = signsUntil.plus(tokenTtl).plus(PUBLISH_MARGIN);
    return db.withTransaction(
            conn ->
                conn.preparedQuery(
                        "INSERT INTO signing_keys (kid, public_key, created_at, signs_until, published_until) "
                            + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kid) DO NOTHING")
                    .execute(
                        Tuple.of(
                            a.kid(),
                            Buffer.buffer(a.pair().publicKey().toBytes()),
                            utc(a.createdAt()),
                            utc(signsUntil),
                            utc(publishedUntil))))
        .compose(
            r -> {
              Active old = current;
              current = a;
              if (old == null || old.kid().equals(a.kid())) {
                return Future.<Void>succeededFuture();
              }
              // stop signing with the old key now: keep it published until its tokens expire
              Instant until = clock.instant().plus(tokenTtl).plus(PUBLISH_MARGIN);
              return db.withTransaction(
                      conn ->
                          conn.preparedQuery(
                                  "UPDATE signing_keys SET signs_until = $2, published_until = LEAST(published_until, $3) WHERE kid = $1")
                              .execute(Tuple.of(old.kid(), utc(clock.instant()), utc(until))))
                  .<Void>mapEmpty();
            });
  }

  private static OffsetDateTime utc(Instant i) {
    return OffsetDateTime.ofInstant(i, ZoneOffset.UTC);
  }

  /** The JWKS document: every instance's keys still published. */
  public Future<JsonObject> jwks() {
    return db.withTransaction(
            conn ->
                conn.preparedQuery(
                        "SELECT kid, public_key FROM signing_keys WHERE published_until > $1 ORDER BY created_at DESC")
                    .execute(Tuple.of(utc(clock.instant()))))
        .map(
            rows -> {
              JsonArray keys = new JsonArray();
              for (Row r : rows) {
                keys.add(
                    new JsonObject()
                        .put("kty", "OKP")
                        .put("crv", "Ed25519")
                        .put("use", "sig")
                        .put("alg", "EdDSA")
                        .put("kid", r.getString("kid"))
                        .put(
                            "x",
                            Base64.getUrlEncoder()
                                .withoutPadding()
                                .encodeToString(r.getBuffer("public_key").getBytes())));
              }
              return new JsonObject().put("keys", keys);
            });
  }

  static String kidOf(byte[] publicKey) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(publicKey);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(d).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private Active generate() {
    KeyFiles.ensurePrivateDirectory(dir);
    Ed25519KeyPair pair = Ed25519KeyPair.generate();
    String kid = kidOf(pair.publicKey().toBytes());
    Instant now = clock.instant();
    KeyFiles.save(dir.resolve(now.toEpochMilli() + "-" + kid + ".key"), pair);
    cleanUp(now);
    return new Active(kid, pair, now);
  }

  /** Newest key file of this instance, or null. */
  private Active loadNewest() throws IOException {
    if (!Files.isDirectory(dir)) {
      return null;
    }
    KeyFiles.ensurePrivateDirectory(dir);
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files =
          s.filter(p -> p.getFileName().toString().matches("\\d+-[A-Za-z0-9_-]{16}\\.key"))
              .sorted(Comparator.comparingLong(SigningKeys::createdMs).reversed())
              .toList();
    }
    if (files.isEmpty()) {
      return null;
    }
    Path newest = files.get(0);
    Ed25519KeyPair pair = KeyFiles.loadEd25519(newest);
    return new Active(
        kidOf(pair.publicKey().toBytes()), pair, Instant.ofEpochMilli(createdMs(newest)));
  }

  private static long createdMs(Path p) {
    String n = p.getFileName().toString();
    return Long.parseLong(n.substring(0, n.indexOf('-')));
  }

  /** Deletes private keys no verifier can need any more (published period over). */
  private void cleanUp(Instant now) {
    Instant cutoff =
        now.minus(ROTATE_AFTER).minus(tokenTtl).minus(PUBLISH_MARGIN).minus(ROTATE_AFTER);
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p :
          s.filter(p -> p.getFileName().toString().matches("\\d+-[A-Za-z0-9_-]{16}\\.key"))
              .toList()) {
        if (Instant.ofEpochMilli(createdMs(p)).isBefore(cutoff)) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      // an old key file left behind is harmless: it is no longer published
    }
  }
}
