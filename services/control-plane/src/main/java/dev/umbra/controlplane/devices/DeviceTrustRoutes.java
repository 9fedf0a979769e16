package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.Wiring;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.machines.MachineRoutes;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.envelope.WorkspaceKeyEnvelope;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.P256PublicKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.TrustPayloadTypes;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.http.ApiException;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Workspace Protection on the control plane (docs/device-trust.md): the public keyset chain,
 * device trust requests, approvals and revocations signed by the workspace key, keyset envelopes,
 * rotation, Recovery Kits, and the signed trust material daemons pin. Only public keys, signed
 * payloads and envelopes (ciphertext) pass through here; every signature is checked before it is
 * stored, though clients and daemons never rely on that check.
 */
public final class DeviceTrustRoutes {
  static final String KEYSET = TrustPayloadTypes.KEYSET;
  static final String REQUEST = TrustPayloadTypes.DEVICE_REQUEST;
  static final String CREDENTIAL = TrustPayloadTypes.DEVICE_CREDENTIAL;
  static final String REVOCATION = TrustPayloadTypes.DEVICE_REVOCATION;
  static final String RECOVERY_KIT = TrustPayloadTypes.RECOVERY_KIT;
  /** How far a device request's timestamp may be from the server's clock. */
  static final Duration REQUEST_SKEW = Duration.ofMinutes(10);
  static final Set<String> KINDS = Set.of("cli", "daemon", "browser");
  static final int MAX_ROTATION_ITEMS = 1000;
  private static final String BASE = "/v1/workspaces/{workspace_id}";

  private final Wiring w;

  public DeviceTrustRoutes(Wiring w) {
    this.w = w;
  }

  /** A signed document: canonical JSON text and the Ed25519 signature over its UTF-8 bytes (docs/device-trust.md). */
  static final Schema SIGNED = Schema.named("SignedPayload", Schema.object()
      .required("payload", Schema.string(1, SignedPayload.MAX_PAYLOAD).describe("canonical JSON object as text (DESIGN.md §7); its \"type\" names the document"))
      .required("signature", Schema.hex(64))
      .build());
  private static final Schema ENVELOPE = Schema.anyObject("a workspace key envelope (canonical JSON object, docs/crypto.md)");
  private static final Schema KEY_HEX = Schema.string().describe("public key, lower-case hex");
  private static final Schema DEVICE = Schema.named("Device", Schema.object()
      .required("id", Schema.uuid()).required("workspace_id", Schema.uuid()).required("account_id", Schema.uuid())
      .required("name", Schema.string()).required("kind", Schema.oneOf("cli", "daemon", "browser"))
      .required("status", Schema.oneOf("pending", "trusted", "revoked", "rejected").describe("rejected only in the answer to a rejection (the row is deleted)"))
      .required("ed25519_public_key", Schema.hex(32)).required("p256_public_key", KEY_HEX)
      .required("request", SIGNED).required("credential", Schema.nullable(SIGNED)).required("revocation", Schema.nullable(SIGNED))
      .required("keyset_version", Schema.nullable(Schema.integer(1, Integer.MAX_VALUE)))
      .required("created_at", Schema.time()).required("approved_at", Schema.nullable(Schema.time()))
      .required("revoked_at", Schema.nullable(Schema.time()))
      .optional("webtty_key", Schema.nullable(SIGNED.describe("umbra-device-webtty-key/v1 signed by the device (docs/device-trust.md, WebTTY keys); null until published")))
      .build());
  private static final Schema CHAIN = Schema.named("KeysetChain", Schema.object()
      .required("keysets", Schema.array(SIGNED).describe("every keyset (umbra-keyset/v1), oldest first"))
      .required("current_version", Schema.nullable(Schema.integer(1, Integer.MAX_VALUE))).build());
  private static final Schema KIT = Schema.named("RecoveryKit", Schema.object()
      .required("id", Schema.uuid()).required("status", Schema.oneOf("pending", "confirmed", "retired"))
      .required("kit", SIGNED).required("created_at", Schema.time()).required("confirmed_at", Schema.nullable(Schema.time())).build());
  private static final Schema SEALED_ENVELOPE = Schema.object()
      .required("keyset_version", Schema.integer(1, Integer.MAX_VALUE)).required("envelope", ENVELOPE).build();

  public void register(ApiRoutes routes) {
    Schema createKeyset = Schema.object()
        .required("keyset", SIGNED.describe("umbra-keyset/v1, version 1, self-signed"))
        .required("request", SIGNED.describe("umbra-device-request/v1 signed by the device"))
        .required("credential", SIGNED.describe("umbra-device-credential/v1 signed by the workspace key"))
        .required("envelope", ENVELOPE).build();
    Schema rotation = Schema.object()
        .required("keyset", SIGNED.describe("the next version, signed by the current workspace key"))
        .required("devices", Schema.array(Schema.object().required("device_id", Schema.uuid()).required("credential", SIGNED).required("envelope", ENVELOPE).build(),
            1, MAX_ROTATION_ITEMS).describe("every remaining trusted device, exactly once"))
        .optional("recovery_kits", Schema.array(Schema.object().required("kit_id", Schema.uuid()).required("kit", SIGNED).required("envelope", ENVELOPE).build(),
            0, MAX_ROTATION_ITEMS).describe("kits to keep; others are retired"))
        .build();
    routes
        .add(HttpMethod.GET, BASE + "/keyset", "The workspace's public keyset chain", Auth.API_TOKEN, 200, Schema.NO_BODY, CHAIN, Handlers.json(200, this::keyset))
        .add(HttpMethod.POST, BASE + "/keyset", "Create the workspace keyset with its first trusted device (owner)", Auth.API_TOKEN, 201, createKeyset, DEVICE, Handlers.json(201, this::createKeyset))
        .add(HttpMethod.POST, BASE + "/keyset/rotations", "Rotate the keyset, re-wrapped for the remaining devices and kits (admin)", Auth.API_TOKEN, 201, rotation, CHAIN, Handlers.json(201, this::rotate))
        .add(HttpMethod.GET, BASE + "/devices", "List devices", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.page(DEVICE), Handlers.json(200, this::list))
        .add(HttpMethod.POST, BASE + "/devices", "Ask to trust a device (signed request)", Auth.API_TOKEN, 201,
            Schema.object().required("request", SIGNED.describe("umbra-device-request/v1 signed by the device's Ed25519 key")).build(), DEVICE, Handlers.json(201, this::request))
        .add(HttpMethod.GET, BASE + "/devices/{device_id}", "Get a device", Auth.API_TOKEN, 200, Schema.NO_BODY, DEVICE, Handlers.json(200, this::get))
        .add(HttpMethod.POST, BASE + "/devices/{device_id}/approval", "Approve a device: credential signed by the workspace key and its envelope (admin)", Auth.API_TOKEN, 200,
            Schema.object().required("credential", SIGNED).required("envelope", ENVELOPE).build(), DEVICE, Handlers.json(200, this::approve))
        .add(HttpMethod.POST, BASE + "/devices/{device_id}/rejection", "Reject a pending device request; the request is deleted (admin)", Auth.API_TOKEN, 200, Schema.NO_BODY, DEVICE, Handlers.json(200, this::reject))
        .add(HttpMethod.POST, BASE + "/devices/{device_id}/revocation", "Revoke a device with a revocation signed by the workspace key (admin)", Auth.API_TOKEN, 200,
            Schema.object().required("revocation", SIGNED.describe("umbra-device-revocation/v1 signed by the current workspace key")).build(), DEVICE, Handlers.json(200, this::revoke))
        .add(HttpMethod.PUT, BASE + "/devices/{device_id}/webtty-key", "Publish one of your own devices' WebTTY X25519 key, signed by the device (openers grant session output keys to it)", Auth.API_TOKEN, 200,
            Schema.object().required("webtty_key", SIGNED.describe("umbra-device-webtty-key/v1 signed by this device's Ed25519 key")).build(), DEVICE,
            Handlers.json(200, this::putWebTtyKey))
        .add(HttpMethod.GET, BASE + "/devices/{device_id}/envelope", "The keyset envelope sealed to a trusted device", Auth.API_TOKEN, 200, Schema.NO_BODY, SEALED_ENVELOPE, Handlers.json(200, this::deviceEnvelope))
        .add(HttpMethod.GET, BASE + "/recovery-kits", "List Recovery Kits (admin)", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.list(KIT), Handlers.json(200, this::kits))
        .add(HttpMethod.POST, BASE + "/recovery-kits", "Register a new Recovery Kit, pending until confirmed (admin)", Auth.API_TOKEN, 201,
            Schema.object().required("kit", SIGNED.describe("umbra-recovery-kit/v1 signed by the current workspace key")).required("envelope", ENVELOPE).build(), KIT, Handlers.json(201, this::createKit))
        .add(HttpMethod.POST, BASE + "/recovery-kits/{kit_id}/confirmation", "Confirm a Recovery Kit is stored; retires the previous one (admin)", Auth.API_TOKEN, 200,
            Schema.object().build().describe("an empty object (or no body)"), KIT, Handlers.json(200, this::confirmKit))
        .add(HttpMethod.GET, BASE + "/recovery-kits/{kit_id}/envelope", "The keyset envelope sealed to a Recovery Kit (admin)", Auth.API_TOKEN, 200, Schema.NO_BODY, SEALED_ENVELOPE, Handlers.json(200, this::kitEnvelope))
        .add(HttpMethod.POST, "/v1/machine-trust", "Signed trust material for a machine to pin (keyset chain, revocations, trusted devices' current credentials)", Auth.MACHINE_SIGNATURE, 200,
            MachineRequest.schema().build().describe("signature over \"umbra-machine-trust/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\""),
            Schema.object()
                .required("keysets", Schema.array(SIGNED)).required("current_version", Schema.nullable(Schema.integer(1, Integer.MAX_VALUE)))
                .required("revocations", Schema.array(SIGNED).describe("every device revocation"))
                .required("credentials", Schema.array(SIGNED).describe("the trusted devices' current credentials")).build(),
            Handlers.json(200, this::machineTrust));
  }

  // ---- keyset ----

  /** The current keyset of the workspace set on {@code conn}: version and signing key; null when none. */
  record Current(int version, Ed25519PublicKey signingKey) {}

  static Future<Current> current(SqlConnection conn) {
    return conn.preparedQuery("SELECT version, payload FROM keysets ORDER BY version DESC LIMIT 1").execute()
        .map(rows -> {
          if (rows.size() == 0) {
            return null;
          }
          Row r = rows.iterator().next();
          @SuppressWarnings("unchecked")
          Map<String, Object> f = (Map<String, Object>) CanonicalJson.parse(r.getString("payload"));
          return new Current(r.getInteger("version"), Ed25519PublicKey.fromHex((String) f.get("signing_public_key")));
        });
  }

  /**
   * Serializes the operations that depend on the current keyset version (approve, revoke, kits,
   * rotation) per workspace, so an approval cannot land with a version a concurrent rotation retired.
   */
  static Future<Void> lockKeyset(SqlConnection conn, UUID wid) {
    return conn.preparedQuery("SELECT pg_advisory_xact_lock(hashtext($1))").execute(Tuple.of("keyset:" + wid)).mapEmpty();
  }

  private static Future<Current> requireCurrent(SqlConnection conn) {
    return current(conn).compose(c -> c == null
        ? Future.failedFuture(new ApiException(409, "no_keyset", "the workspace has no keyset yet: its first owner creates it with `umbra device trust`", null))
        : Future.succeededFuture(c));
  }

  private Future<JsonObject> keyset(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) -> chain(conn)));
  }

  private static Future<JsonObject> chain(SqlConnection conn) {
    return conn.preparedQuery("SELECT version, payload, signature FROM keysets ORDER BY version").execute()
        .map(rows -> {
          JsonArray a = new JsonArray();
          int v = 0;
          for (Row r : rows) {
            a.add(SignedPayload.json(r.getString("payload"), r.getBuffer("signature").getBytes()));
            v = r.getInteger("version");
          }
          return new JsonObject().put("keysets", a).put("current_version", v == 0 ? null : v);
        });
  }

  private record KeysetIn(SignedPayload signed, int version, Ed25519PublicKey signingKey) {}

  private KeysetIn keysetIn(JsonObject body, UUID wid) {
    SignedPayload k = SignedPayload.parse(body, "keyset", KEYSET);
    if (!k.uuid("workspace_id").equals(wid)) {
      throw ApiException.badRequest("keyset", "keyset.workspace_id must be this workspace");
    }
    long v = k.num("version");
    if (v < 1 || v > Integer.MAX_VALUE) {
      throw ApiException.badRequest("keyset", "keyset.version must be a positive integer");
    }
    Ed25519PublicKey signing = k.ed25519("signing_public_key");
    try {
      X25519PublicKey.fromHex(k.str("encryption_public_key"));
    } catch (CryptoException | IllegalArgumentException e) {
      throw ApiException.badRequest("keyset", "keyset.encryption_public_key must be a 32-byte X25519 key in hex");
    }
    k.str("created_at");
    return new KeysetIn(k, (int) v, signing);
  }

  private record DeviceIn(SignedPayload request, UUID id, Ed25519PublicKey signingKey, P256PublicKey envelopeKey, String name, String kind) {}

  private DeviceIn requestIn(JsonObject body, UUID wid) {
    SignedPayload r = SignedPayload.parse(body, "request", REQUEST);
    if (!r.uuid("workspace_id").equals(wid)) {
      throw ApiException.badRequest("request", "request.workspace_id must be this workspace");
    }
    Ed25519PublicKey ed = r.ed25519("ed25519_public_key");
    P256PublicKey p256 = r.p256("p256_public_key");
    String name = r.str("name");
    if (name.length() > Requests.MAX_NAME || name.chars().anyMatch(Character::isISOControl)) {
      throw ApiException.badRequest("request", "request.name must be 1 to " + Requests.MAX_NAME + " printable characters");
    }
    String kind = r.str("kind");
    if (!KINDS.contains(kind)) {
      throw ApiException.badRequest("request", "request.kind must be one of cli, daemon, browser");
    }
    if (Math.abs(w.clock().millis() - r.num("timestamp_ms")) > REQUEST_SKEW.toMillis()) {
      throw ApiException.badRequest("request", "request.timestamp_ms is too far from the server's clock");
    }
    r.verify(ed);
    return new DeviceIn(r, r.uuid("device_id"), ed, p256, name, kind);
  }

  /** Checks that a credential names exactly this device, its keys and {@code version}, signed by {@code signer}. */
  private static SignedPayload credentialIn(JsonObject body, String field, UUID wid, UUID deviceId, byte[] ed, byte[] p256, int version, Ed25519PublicKey signer) {
    SignedPayload c = SignedPayload.parse(body, field, CREDENTIAL);
    if (!c.uuid("workspace_id").equals(wid) || !c.uuid("device_id").equals(deviceId)) {
      throw ApiException.badRequest(field, field + " is for another workspace or device");
    }
    if (!java.util.Arrays.equals(c.ed25519("ed25519_public_key").toBytes(), ed) || !java.util.Arrays.equals(c.p256("p256_public_key").toBytes(), p256)) {
      throw ApiException.badRequest(field, field + " names other keys than the device's");
    }
    if (c.num("keyset_version") != version) {
      throw ApiException.badRequest(field, field + ".keyset_version must be the current version " + version);
    }
    c.str("issued_at");
    c.verify(signer);
    return c;
  }

  /** A keyset envelope (canonical JSON object, docs/crypto.md), re-encoded canonically. */
  static String envelopeIn(JsonObject body, String field) {
    if (!(body.getValue(field) instanceof JsonObject o)) {
      throw ApiException.badRequest(field, field + " must be a workspace key envelope object");
    }
    try {
      WorkspaceKeyEnvelope e = WorkspaceKeyEnvelope.fromJson(o.encode().getBytes(StandardCharsets.UTF_8));
      if (e.ciphertext().length > 16_384) {
        throw ApiException.badRequest(field, field + " is too large");
      }
      return new String(e.toJson(), StandardCharsets.UTF_8);
    } catch (CryptoException | IllegalArgumentException e) {
      throw ApiException.badRequest(field, field + " is not a valid workspace key envelope");
    }
  }

  private static ApiException conflict(String code, String message) {
    return new ApiException(409, code, message, null);
  }

  private Future<JsonObject> createKeyset(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "keyset", "request", "credential", "envelope");
    KeysetIn k = keysetIn(body, wid);
    if (k.version() != 1) {
      throw ApiException.badRequest("keyset", "the first keyset has version 1");
    }
    k.signed().verify(k.signingKey());
    DeviceIn d = requestIn(body, wid);
    SignedPayload cred = credentialIn(body, "credential", wid, d.id(), d.signingKey().toBytes(), d.envelopeKey().toBytes(), 1, k.signingKey());
    String envelope = envelopeIn(body, "envelope");
    OffsetDateTime now = w.now();
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.OWNER, (conn, m) ->
            conn.preparedQuery("INSERT INTO keysets (workspace_id, version, payload, signature, created_at) VALUES ($1, 1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .execute(Tuple.of(wid, k.signed().payload(), Buffer.buffer(k.signed().signature()), now))
                .compose(r -> r.rowCount() == 0 ? Future.failedFuture(conflict("keyset_exists", "the workspace already has a keyset: ask a trusted device to approve this one with `umbra devices approve`"))
                    : insertDevice(conn, wid, p.accountId(), d, "trusted", cred, 1, now))
                .compose(r -> insertEnvelope(conn, wid, 1, "device", d.id(), envelope, now))
                .compose(r -> one(conn, d.id()))
                .onSuccess(j -> {
                  w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.KEYSET_ENVELOPE_ADDED, "keyset:1", Outcome.OUTCOME_SUCCESS);
                  w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.DEVICE_APPROVED, "device:" + d.id(), Outcome.OUTCOME_SUCCESS);
                })));
  }

  private static Future<RowSet<Row>> insertDevice(SqlConnection conn, UUID wid, UUID account, DeviceIn d, String status, SignedPayload cred, Integer version, OffsetDateTime now) {
    return conn.preparedQuery("INSERT INTO devices (workspace_id, id, account_id, ed25519_public_key, p256_public_key, name, kind, status, "
            + "request_payload, request_signature, credential_payload, credential_signature, keyset_version, created_at, approved_at) "
            + "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) ON CONFLICT DO NOTHING")
        .execute(Tuple.from(new Object[] {wid, d.id(), account, Buffer.buffer(d.signingKey().toBytes()), Buffer.buffer(d.envelopeKey().toBytes()),
            d.name(), d.kind(), status, d.request().payload(), Buffer.buffer(d.request().signature()),
            cred == null ? null : cred.payload(), cred == null ? null : Buffer.buffer(cred.signature()), version, now, cred == null ? null : now}))
        .compose(r -> r.rowCount() == 0
            ? Future.failedFuture(conflict("device_exists", "a device with this id or key already exists"))
            : Future.succeededFuture(r));
  }

  private static Future<RowSet<Row>> insertEnvelope(SqlConnection conn, UUID wid, int version, String kind, UUID recipient, String envelope, OffsetDateTime now) {
    return conn.preparedQuery("INSERT INTO keyset_envelopes (workspace_id, keyset_version, recipient_kind, recipient_id, envelope, created_at) "
            + "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (workspace_id, keyset_version, recipient_kind, recipient_id) DO UPDATE SET envelope = excluded.envelope, created_at = excluded.created_at")
        .execute(Tuple.of(wid, version, kind, recipient, envelope, now));
  }

  private Future<JsonObject> rotate(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "keyset", "devices", "recovery_kits");
    KeysetIn k = keysetIn(body, wid);
    JsonArray devs = body.getValue("devices") instanceof JsonArray a ? a : null;
    JsonArray kits = body.getValue("recovery_kits") instanceof JsonArray a ? a : new JsonArray();
    if (devs == null || devs.isEmpty() || devs.size() > MAX_ROTATION_ITEMS) {
      throw ApiException.badRequest("devices", "devices must list every remaining trusted device (1 to " + MAX_ROTATION_ITEMS + ")");
    }
    if (kits.size() > MAX_ROTATION_ITEMS) {
      throw ApiException.badRequest("recovery_kits", "too many recovery_kits");
    }
    Map<UUID, JsonObject> byDevice = new HashMap<>();
    for (Object o : devs) {
      if (!(o instanceof JsonObject j) || !(j.getValue("device_id") instanceof String id)) {
        throw ApiException.badRequest("devices", "each device needs device_id, credential and envelope");
      }
      if (byDevice.put(Requests.uuid(id, "devices"), j) != null) {
        throw ApiException.badRequest("devices", "a device is listed twice");
      }
    }
    Map<UUID, JsonObject> byKit = new HashMap<>();
    for (Object o : kits) {
      if (!(o instanceof JsonObject j) || !(j.getValue("kit_id") instanceof String id)) {
        throw ApiException.badRequest("recovery_kits", "each recovery kit needs kit_id, kit and envelope");
      }
      if (byKit.put(Requests.uuid(id, "recovery_kits"), j) != null) {
        throw ApiException.badRequest("recovery_kits", "a kit is listed twice");
      }
    }
    OffsetDateTime now = w.now();
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            lockKeyset(conn, wid)
                .compose(x -> requireCurrent(conn))
                .compose(cur -> {
                  if (k.version() != cur.version() + 1) {
                    return Future.failedFuture(conflict("stale_keyset", "keyset.version must be " + (cur.version() + 1)));
                  }
                  k.signed().verify(cur.signingKey());
                  return conn.preparedQuery("SELECT id, ed25519_public_key, p256_public_key FROM devices WHERE status = 'trusted'").execute()
                      .compose(rows -> {
                        if (rows.size() != byDevice.size()) {
                          return Future.failedFuture(ApiException.badRequest("devices", "devices must list exactly the " + rows.size() + " trusted devices"));
                        }
                        Future<?> chainF = conn.preparedQuery("INSERT INTO keysets (workspace_id, version, payload, signature, created_at) VALUES ($1,$2,$3,$4,$5)")
                            .execute(Tuple.of(wid, k.version(), k.signed().payload(), Buffer.buffer(k.signed().signature()), now))
                            .compose(x -> conn.preparedQuery("DELETE FROM keyset_envelopes WHERE keyset_version < $1").execute(Tuple.of(k.version())));
                        for (Row r : rows) {
                          UUID id = r.getUUID("id");
                          JsonObject item = byDevice.get(id);
                          if (item == null) {
                            return Future.failedFuture(ApiException.badRequest("devices", "trusted device " + id + " is missing"));
                          }
                          SignedPayload cred = credentialIn(item, "credential", wid, id, r.getBuffer("ed25519_public_key").getBytes(),
                              r.getBuffer("p256_public_key").getBytes(), k.version(), k.signingKey());
                          String env = envelopeIn(item, "envelope");
                          chainF = chainF.compose(x -> conn.preparedQuery("UPDATE devices SET credential_payload = $2, credential_signature = $3, keyset_version = $4 WHERE id = $1")
                                  .execute(Tuple.of(id, cred.payload(), Buffer.buffer(cred.signature()), k.version())))
                              .compose(x -> insertEnvelope(conn, wid, k.version(), "device", id, env, now));
                        }
                        return chainF;
                      })
                      .compose(x -> conn.preparedQuery("SELECT id FROM recovery_kits WHERE status <> 'retired'").execute())
                      .compose(rows -> {
                        Future<?> f = Future.succeededFuture();
                        for (Row r : rows) {
                          UUID id = r.getUUID("id");
                          JsonObject item = byKit.get(id);
                          if (item == null) {
                            f = f.compose(x -> conn.preparedQuery("UPDATE recovery_kits SET status = 'retired' WHERE id = $1").execute(Tuple.of(id)));
                            continue;
                          }
                          SignedPayload kit = kitIn(item, wid, id, k.signingKey());
                          String env = envelopeIn(item, "envelope");
                          f = f.compose(x -> conn.preparedQuery("UPDATE recovery_kits SET payload = $2, signature = $3 WHERE id = $1")
                                  .execute(Tuple.of(id, kit.payload(), Buffer.buffer(kit.signature()))))
                              .compose(x -> insertEnvelope(conn, wid, k.version(), "recovery", id, env, now));
                        }
                        return f;
                      })
                      .compose(x -> chain(conn));
                }))
            .onSuccess(j -> {
              // once committed: the credentials of older versions are void, daemons refresh to accept the new ones
              w.revoked(RevokedKind.REVOKED_KIND_KEYSET_VERSION, wid, String.valueOf(k.version()), null);
              w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.KEYSET_ENVELOPE_ADDED, "keyset:" + k.version(), Outcome.OUTCOME_SUCCESS);
            }));
  }

  // ---- devices ----

  static JsonObject json(Row r) {
    HexFormat hex = HexFormat.of();
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("workspace_id", r.getUUID("workspace_id").toString())
        .put("account_id", r.getUUID("account_id").toString())
        .put("name", r.getString("name"))
        .put("kind", r.getString("kind"))
        .put("status", r.getString("status"))
        .put("ed25519_public_key", hex.formatHex(r.getBuffer("ed25519_public_key").getBytes()))
        .put("p256_public_key", hex.formatHex(r.getBuffer("p256_public_key").getBytes()))
        .put("request", SignedPayload.json(r.getString("request_payload"), r.getBuffer("request_signature").getBytes()))
        .put("credential", r.getString("credential_payload") == null ? null
            : SignedPayload.json(r.getString("credential_payload"), r.getBuffer("credential_signature").getBytes()))
        .put("revocation", r.getString("revocation_payload") == null ? null
            : SignedPayload.json(r.getString("revocation_payload"), r.getBuffer("revocation_signature").getBytes()))
        .put("keyset_version", r.getInteger("keyset_version"))
        .put("created_at", r.getOffsetDateTime("created_at").toString())
        .put("approved_at", str(r.getOffsetDateTime("approved_at")))
        .put("revoked_at", str(r.getOffsetDateTime("revoked_at")))
        .put("webtty_key", r.getString("webtty_key_payload") == null ? null
            : SignedPayload.json(r.getString("webtty_key_payload"), r.getBuffer("webtty_key_signature").getBytes()));
  }

  static final String WEBTTY_KEY_TYPE = TrustPayloadTypes.DEVICE_WEBTTY_KEY;

  /**
   * A device's WebTTY key binding, published by the device's own account. Checked here as a second
   * line (openers and daemons verify it against the device's workspace-signed credential): the
   * exact fields, this workspace and device, and the device's Ed25519 signature.
   */
  private Future<JsonObject> putWebTtyKey(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    JsonObject body = Requests.body(ctx, "webtty_key");
    SignedPayload k = SignedPayload.parse(body, "webtty_key", WEBTTY_KEY_TYPE);
    if (!Set.of("type", "workspace_id", "device_id", "x25519_public_key", "issued_at").equals(k.fields().keySet())) {
      throw ApiException.badRequest("webtty_key", "webtty_key.payload has exactly type, workspace_id, device_id, x25519_public_key, issued_at");
    }
    if (!k.uuid("workspace_id").equals(wid) || !k.uuid("device_id").equals(id)) {
      throw ApiException.badRequest("webtty_key", "webtty_key names another workspace or device");
    }
    k.str("issued_at");
    try {
      X25519PublicKey.fromHex(k.str("x25519_public_key"));
    } catch (CryptoException | IllegalArgumentException e) {
      throw ApiException.badRequest("webtty_key", "webtty_key.x25519_public_key must be a 32-byte X25519 key in hex");
    }
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) ->
            conn.preparedQuery("SELECT account_id, status, ed25519_public_key FROM devices WHERE id = $1 FOR UPDATE").execute(Tuple.of(id))
                .compose(rows -> {
                  if (rows.size() == 0) {
                    return Future.failedFuture(ApiException.notFound("device"));
                  }
                  Row r = rows.iterator().next();
                  if (!p.accountId().equals(r.getUUID("account_id")) || "revoked".equals(r.getString("status"))) {
                    return Future.failedFuture(new ApiException(403, "not_your_device", "only a device's own account publishes its WebTTY key, and not for a revoked device", "device_id"));
                  }
                  k.verify(Ed25519PublicKey.fromBytes(r.getBuffer("ed25519_public_key").getBytes()));
                  return conn.preparedQuery("UPDATE devices SET webtty_key_payload = $2, webtty_key_signature = $3 WHERE id = $1")
                      .execute(Tuple.of(id, k.payload(), Buffer.buffer(k.signature())));
                })
                .compose(x -> one(conn, id))));
  }

  private static String str(OffsetDateTime t) {
    return t == null ? null : t.toString();
  }

  private static Future<JsonObject> one(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM devices WHERE id = $1").execute(Tuple.of(id))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("device")) : Future.succeededFuture(json(rows.iterator().next())));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) ->
            conn.preparedQuery("SELECT * FROM devices WHERE id > $1 ORDER BY id LIMIT $2").execute(Tuple.of(page.after(), page.fetch()))))
        .map(rows -> {
          List<Row> list = new ArrayList<>();
          rows.forEach(list::add);
          return page.render(list, r -> r.getUUID("id"), DeviceTrustRoutes::json);
        });
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) -> one(conn, id)));
  }

  private Future<JsonObject> request(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "request");
    DeviceIn d = requestIn(body, wid);
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.MEMBER, (conn, m) ->
            requireCurrent(conn)
                .compose(c -> insertDevice(conn, wid, p.accountId(), d, "pending", null, null, w.now()))
                .compose(r -> one(conn, d.id()))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.DEVICE_TRUST_REQUESTED, "device:" + d.id(), Outcome.OUTCOME_SUCCESS))));
  }

  private Future<JsonObject> approve(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    JsonObject body = Requests.body(ctx, "credential", "envelope");
    String envelope = envelopeIn(body, "envelope");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            lockKeyset(conn, wid).compose(x -> requireCurrent(conn)).compose(cur ->
                conn.preparedQuery("SELECT status, ed25519_public_key, p256_public_key FROM devices WHERE id = $1 FOR UPDATE").execute(Tuple.of(id))
                    .compose(rows -> {
                      if (rows.size() == 0) {
                        return Future.failedFuture(ApiException.notFound("device"));
                      }
                      Row r = rows.iterator().next();
                      if (!"pending".equals(r.getString("status"))) {
                        return Future.failedFuture(conflict("not_pending", "the device is " + r.getString("status") + ", not pending"));
                      }
                      SignedPayload cred = credentialIn(body, "credential", wid, id, r.getBuffer("ed25519_public_key").getBytes(),
                          r.getBuffer("p256_public_key").getBytes(), cur.version(), cur.signingKey());
                      OffsetDateTime now = w.now();
                      return conn.preparedQuery("UPDATE devices SET status = 'trusted', credential_payload = $2, credential_signature = $3, keyset_version = $4, approved_at = $5 WHERE id = $1")
                          .execute(Tuple.of(id, cred.payload(), Buffer.buffer(cred.signature()), cur.version(), now))
                          .compose(x -> insertEnvelope(conn, wid, cur.version(), "device", id, envelope, now));
                    }))
                .compose(x -> one(conn, id))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.DEVICE_APPROVED, "device:" + id, Outcome.OUTCOME_SUCCESS))));
  }

  /**
   * Rejects a pending request: the row is deleted (it never held a credential or an envelope, so
   * nothing needs the workspace key's signature). A trusted device is revoked instead.
   */
  private Future<JsonObject> reject(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            lockKeyset(conn, wid).compose(x -> conn.preparedQuery("SELECT * FROM devices WHERE id = $1 FOR UPDATE").execute(Tuple.of(id)))
                .compose(rows -> {
                  if (rows.size() == 0) {
                    return Future.failedFuture(ApiException.notFound("device"));
                  }
                  JsonObject j = json(rows.iterator().next());
                  if (!"pending".equals(j.getString("status"))) {
                    return Future.failedFuture(conflict("not_pending", "the device is " + j.getString("status") + ", not pending: revoke it instead"));
                  }
                  return conn.preparedQuery("DELETE FROM devices WHERE id = $1 AND status = 'pending'").execute(Tuple.of(id))
                      .map(r -> j.put("status", "rejected"));
                }))
            .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.DEVICE_REJECTED, "device:" + id, Outcome.OUTCOME_SUCCESS)));
  }

  private Future<JsonObject> revoke(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    JsonObject body = Requests.body(ctx, "revocation");
    SignedPayload rev = SignedPayload.parse(body, "revocation", REVOCATION);
    if (!rev.uuid("workspace_id").equals(wid) || !rev.uuid("device_id").equals(id)) {
      throw ApiException.badRequest("revocation", "revocation is for another workspace or device");
    }
    rev.str("revoked_at");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            lockKeyset(conn, wid).compose(x -> conn.preparedQuery("SELECT 1 FROM devices WHERE id = $1 FOR UPDATE").execute(Tuple.of(id)))
                .compose(found -> found.size() == 0 ? Future.failedFuture(ApiException.notFound("device")) : requireCurrent(conn))
                .compose(cur -> {
                  rev.verify(cur.signingKey());
                  return conn.preparedQuery("UPDATE devices SET status = 'revoked', revocation_payload = $2, revocation_signature = $3, revoked_at = $4 "
                          + "WHERE id = $1 AND status IN ('pending', 'trusted')")
                      .execute(Tuple.of(id, rev.payload(), Buffer.buffer(rev.signature()), w.now()));
                })
                .compose(r -> r.rowCount() == 0
                    ? conn.preparedQuery("SELECT 1 FROM devices WHERE id = $1").execute(Tuple.of(id))
                        .compose(x -> Future.<Object>failedFuture(x.size() == 0 ? ApiException.notFound("device") : conflict("already_revoked", "the device is already revoked or rejected")))
                    : conn.preparedQuery("DELETE FROM keyset_envelopes WHERE recipient_kind = 'device' AND recipient_id = $1").execute(Tuple.of(id)).map(x -> (Object) x))
                .compose(x -> one(conn, id)))
            // published once committed: a daemon that refreshes its pin on hearing it finds the revocation
            .onSuccess(j -> {
              w.revoked(RevokedKind.REVOKED_KIND_DEVICE, wid, id.toString(), accountOf(j));
              w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.DEVICE_REVOKED, "device:" + id, Outcome.OUTCOME_SUCCESS);
            }));
  }

  private static UUID accountOf(JsonObject device) {
    String a = device.getString("account_id");
    return a == null ? null : UUID.fromString(a);
  }

  private Future<JsonObject> deviceEnvelope(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) -> envelope(conn, "device", id)));
  }

  private static Future<JsonObject> envelope(SqlConnection conn, String kind, UUID id) {
    return conn.preparedQuery("SELECT keyset_version, envelope FROM keyset_envelopes WHERE recipient_kind = $1 AND recipient_id = $2 ORDER BY keyset_version DESC LIMIT 1")
        .execute(Tuple.of(kind, id))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("envelope"))
            : Future.succeededFuture(new JsonObject().put("keyset_version", rows.iterator().next().getInteger("keyset_version"))
                .put("envelope", new JsonObject(rows.iterator().next().getString("envelope")))));
  }

  // ---- recovery kits ----

  private static SignedPayload kitIn(JsonObject body, UUID wid, UUID kitId, Ed25519PublicKey signer) {
    SignedPayload k = SignedPayload.parse(body, "kit", RECOVERY_KIT);
    if (!k.uuid("workspace_id").equals(wid) || (kitId != null && !k.uuid("kit_id").equals(kitId))) {
      throw ApiException.badRequest("kit", "kit is for another workspace or kit");
    }
    k.p256("p256_public_key");
    k.str("created_at");
    k.verify(signer);
    return k;
  }

  private static JsonObject kitJson(Row r) {
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("status", r.getString("status"))
        .put("kit", SignedPayload.json(r.getString("payload"), r.getBuffer("signature").getBytes()))
        .put("created_at", r.getOffsetDateTime("created_at").toString())
        .put("confirmed_at", str(r.getOffsetDateTime("confirmed_at")));
  }

  private Future<JsonObject> kits(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("SELECT * FROM recovery_kits ORDER BY created_at, id").execute()))
        .map(rows -> {
          JsonArray a = new JsonArray();
          rows.forEach(r -> a.add(kitJson(r)));
          return new JsonObject().put("items", a);
        });
  }

  private Future<JsonObject> createKit(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "kit", "envelope");
    String envelope = envelopeIn(body, "envelope");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            lockKeyset(conn, wid).compose(x -> requireCurrent(conn)).compose(cur -> {
                  SignedPayload kit = kitIn(body, wid, null, cur.signingKey());
                  UUID kitId = kit.uuid("kit_id");
                  OffsetDateTime now = w.now();
                  return conn.preparedQuery("INSERT INTO recovery_kits (workspace_id, id, payload, signature, status, created_at) VALUES ($1,$2,$3,$4,'pending',$5) ON CONFLICT DO NOTHING RETURNING *")
                      .execute(Tuple.of(wid, kitId, kit.payload(), Buffer.buffer(kit.signature()), now))
                      .compose(rows -> rows.size() == 0 ? Future.failedFuture(conflict("kit_exists", "a kit with this id exists"))
                          : insertEnvelope(conn, wid, cur.version(), "recovery", kitId, envelope, now).map(x -> kitJson(rows.iterator().next())));
                })
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.RECOVERY_KIT_CREATED, "recovery_kit:" + j.getString("id"), Outcome.OUTCOME_SUCCESS))));
  }

  private Future<JsonObject> confirmKit(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "kit_id");
    Requests.body(ctx);
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("UPDATE recovery_kits SET status = 'confirmed', confirmed_at = $2 WHERE id = $1 AND status = 'pending'").execute(Tuple.of(id, w.now()))
                .compose(r -> r.rowCount() == 0
                    ? conn.preparedQuery("SELECT 1 FROM recovery_kits WHERE id = $1").execute(Tuple.of(id))
                        .compose(x -> Future.<Object>failedFuture(x.size() == 0 ? ApiException.notFound("recovery kit") : conflict("not_pending", "the kit is not pending")))
                    : conn.preparedQuery("UPDATE recovery_kits SET status = 'retired' WHERE id <> $1 AND status = 'confirmed'").execute(Tuple.of(id)).map(x -> (Object) x))
                .compose(x -> conn.preparedQuery("DELETE FROM keyset_envelopes WHERE recipient_kind = 'recovery' AND recipient_id IN (SELECT id FROM recovery_kits WHERE status = 'retired')").execute())
                .compose(x -> conn.preparedQuery("SELECT * FROM recovery_kits WHERE id = $1").execute(Tuple.of(id)))
                .map(rows -> kitJson(rows.iterator().next()))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.RECOVERY_KIT_CREATED, "recovery_kit:" + id + ":confirmed", Outcome.OUTCOME_SUCCESS))));
  }

  private Future<JsonObject> kitEnvelope(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "kit_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) -> envelope(conn, "recovery", id)
            .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.RECOVERY_KIT_USED, "recovery_kit:" + id, Outcome.OUTCOME_SUCCESS))));
  }

  // ---- machines ----

  /** The bytes a machine signs to fetch trust material (same as the daemon's TrustSync). */
  static byte[] machineTrustMessage(UUID workspaceId, UUID machineId, long timestampMs) {
    return ("umbra-machine-trust/v1\n" + workspaceId + "\n" + machineId + "\n" + timestampMs).getBytes(StandardCharsets.UTF_8);
  }

  private Future<JsonObject> machineTrust(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "workspace_id", "machine_id", "timestamp_ms", "signature");
    MachineRequest m = MachineRequest.parse(w, body);
    return m.run(w, ctx, machineTrustMessage(m.workspaceId(), m.machineId(), m.timestampMs()), conn ->
        chain(conn).compose(chain -> conn.preparedQuery("SELECT revocation_payload, revocation_signature FROM devices WHERE revocation_payload IS NOT NULL ORDER BY id").execute()
            .map(rows -> {
              JsonArray revs = new JsonArray();
              rows.forEach(r -> revs.add(SignedPayload.json(r.getString("revocation_payload"), r.getBuffer("revocation_signature").getBytes())));
              return chain.put("revocations", revs);
            }))
            // the trusted devices' current credentials: after a rotation the daemon re-checks its live
            // sessions against these (it verifies each under the pinned keyset; the list adds no trust)
            .compose(j -> conn.preparedQuery("SELECT credential_payload, credential_signature FROM devices "
                    + "WHERE status = 'trusted' AND credential_payload IS NOT NULL ORDER BY id").execute()
                .map(rows -> {
                  JsonArray creds = new JsonArray();
                  rows.forEach(r -> creds.add(SignedPayload.json(r.getString("credential_payload"), r.getBuffer("credential_signature").getBytes())));
                  return j.put("credentials", creds);
                })));
  }
}
