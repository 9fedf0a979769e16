package dev.umbra.pairing.codes;

import dev.umbra.crypto.secret.Argon2idHasher;
import dev.umbra.crypto.secret.Blake2b256;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.id.Ulid;
import dev.umbra.pairing.codes.CodeStore.Found;
import dev.umbra.pairing.controlplane.ControlPlaneClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * The decisions of pairing (docs/pairing.md): a code is a ULID shown once and stored as its
 * BLAKE2b-256 hash, valid {@link #VALIDITY}, single use, optionally requiring the workspace PSK
 * (kept as an Argon2id hash). Redemption is atomic (one conditional UPDATE claims the code),
 * creates the binding in the control plane, and releases the claim when that fails; unknown, used,
 * cancelled and expired codes fail alike. The SQL is {@link CodeStore}'s; HTTP is {@link
 * CodeRoutes}'.
 */
public final class CodeService {
  static final Duration VALIDITY = Duration.ofMinutes(15);

  /** A new code: what is stored, and the code itself (shown once). */
  record Created(PairingCode stored, String code) {}

  /** A page of pending codes and the cursor of the next page (null on the last). */
  record Page(List<PairingCode> items, UUID next) {}

  /** A redeemed code and the machine the control plane created for it. */
  record Redeemed(Found code, JsonObject machine) {}

  private final Vertx vertx;
  private final Database db;
  private final Clock clock;
  private final Ulid ulids;
  private final Argon2idHasher hasher;
  private final ControlPlaneClient controlPlane;
  private final CodeStore store = new CodeStore();
  private volatile String dummyPskHash;

  public CodeService(
      Vertx vertx,
      Database db,
      Clock clock,
      Argon2idHasher hasher,
      ControlPlaneClient controlPlane) {
    this.vertx = vertx;
    this.db = db;
    this.clock = clock;
    this.ulids = new Ulid(clock, new SecureRandom());
    this.hasher = hasher;
    this.controlPlane = controlPlane;
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  static byte[] hashCode(String code) {
    return Blake2b256.hash(code.toUpperCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
  }

  static ApiException invalidCode() {
    return new ApiException(
        404, "invalid_code", "pairing code is unknown, used, cancelled or expired", "code");
  }

  /** A new code of {@code workspace}; one that requires the PSK needs the workspace to have one. */
  Future<Created> create(UUID workspace, boolean requirePsk, String actor) {
    String code = ulids.next();
    UUID id = UUID.randomUUID();
    OffsetDateTime now = now();
    return db.inWorkspace(
        workspace,
        conn ->
            (requirePsk ? store.hasPsk(conn) : Future.succeededFuture(true))
                .compose(
                    has ->
                        has
                            ? Future.succeededFuture()
                            : Future.failedFuture(
                                new ApiException(
                                    409,
                                    "no_psk",
                                    "the workspace has no PSK; set one first",
                                    "require_psk")))
                .compose(
                    x ->
                        store.insert(
                            conn,
                            workspace,
                            id,
                            hashCode(code),
                            requirePsk,
                            actor,
                            now,
                            now.plus(VALIDITY)))
                .map(stored -> new Created(stored, code)));
  }

  /** Pending codes of {@code workspace} with an id after {@code after}, at most {@code limit}. */
  Future<Page> pending(UUID workspace, UUID after, int limit) {
    return db.inWorkspace(workspace, conn -> store.pending(conn, now(), after, limit + 1))
        .map(
            rows ->
                rows.size() > limit
                    ? new Page(rows.subList(0, limit), rows.get(limit - 1).id())
                    : new Page(rows, null));
  }

  /** Cancels a pending code; 404 when there is none. */
  Future<Void> cancel(UUID workspace, UUID id) {
    return db.inWorkspace(workspace, conn -> store.cancel(conn, id, now()))
        .compose(
            cancelled ->
                cancelled
                    ? Future.<Void>succeededFuture()
                    : Future.<Void>failedFuture(ApiException.notFound("pending pairing code")));
  }

  /** Sets (or replaces) the workspace PSK, kept as its Argon2id hash. */
  Future<Void> setPsk(UUID workspace, String psk, String actor) {
    return vertx
        .executeBlocking(() -> hasher.hash(psk.getBytes(StandardCharsets.UTF_8)), false)
        .compose(
            hash ->
                db.inWorkspace(
                    workspace, conn -> store.setPsk(conn, workspace, hash, now(), actor)));
  }

  Future<Void> clearPsk(UUID workspace) {
    return db.inWorkspace(workspace, conn -> store.clearPsk(conn, workspace));
  }

  /**
   * Redeems a code: finds it, checks the PSK it requires, claims it and has the control plane
   * create the machine's binding (releasing the claim when that fails), then records the machine on
   * the code.
   */
  Future<Redeemed> redeem(Redemption r) {
    return find(r.code())
        .compose(found -> checkPsk(found, r.psk()).map(found))
        .compose(found -> bind(found, r).map(machine -> new Redeemed(found, machine)));
  }

  private Future<JsonObject> bind(Found found, Redemption r) {
    return claim(found)
        .compose(
            v ->
                controlPlane
                    .createMachine(found.workspaceId(), r.machine("pairing_code:" + found.id()))
                    .recover(e -> release(found).transform(x -> Future.failedFuture(e))))
        .compose(
            machine ->
                db.inWorkspace(
                        found.workspaceId(),
                        conn ->
                            store.recordMachine(
                                conn, found.id(), UUID.fromString(machine.getString("id"))))
                    .map(machine));
  }

  /**
   * Looks the code up by hash (RLS shows only that row); unknown, used, cancelled or expired all
   * fail alike.
   */
  private Future<Found> find(String code) {
    if (!Ulid.isValid(code)) {
      return Future.failedFuture(invalidCode());
    }
    String hex = HexFormat.of().formatHex(hashCode(code));
    return db.withTransaction(conn -> store.findPending(conn, hex, now()))
        .compose(
            found ->
                found
                    .map(Future::succeededFuture)
                    .orElseGet(() -> Future.failedFuture(invalidCode())));
  }

  private Future<Void> checkPsk(Found found, String psk) {
    if (!found.requirePsk()) {
      return Future.succeededFuture();
    }
    ApiException bad =
        new ApiException(
            401,
            "invalid_psk",
            "this pairing code requires the workspace PSK; it was missing or wrong",
            "psk");
    return db.inWorkspace(found.workspaceId(), store::pskHash)
        .compose(
            stored -> {
              byte[] presented = (psk == null ? "" : psk).getBytes(StandardCharsets.UTF_8);
              // with no PSK set, check against a dummy so the time taken does not tell
              return vertx
                  .executeBlocking(
                      () ->
                          hasher.verify(stored.orElseGet(this::dummyPskHash), presented)
                              && psk != null,
                      false)
                  .compose(
                      ok ->
                          ok && stored.isPresent()
                              ? Future.<Void>succeededFuture()
                              : Future.<Void>failedFuture(bad));
            });
  }

  private String dummyPskHash() {
    String d = dummyPskHash;
    if (d == null) {
      d = hasher.hash("not-a-psk-but-as-slow-to-check".getBytes(StandardCharsets.US_ASCII));
      dummyPskHash = d;
    }
    return d;
  }

  private Future<Void> claim(Found found) {
    return db.inWorkspace(found.workspaceId(), conn -> store.claim(conn, found.id(), now()))
        .compose(
            claimed ->
                claimed
                    ? Future.<Void>succeededFuture()
                    : Future.<Void>failedFuture(invalidCode()));
  }

  /** Undoes a claim whose binding could not be created, so the code can be tried again. */
  private Future<Void> release(Found found) {
    return db.inWorkspace(found.workspaceId(), conn -> store.release(conn, found.id()));
  }
}
