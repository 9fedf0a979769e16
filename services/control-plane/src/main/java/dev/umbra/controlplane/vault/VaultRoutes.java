package dev.umbra.controlplane.vault;

import dev.umbra.controlplane.Wiring;
import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.http.ApiException;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.Base64;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The context vault (docs/device-trust.md): entries and candidates are HPKE ciphertext sealed on
 * a client to the workspace encryption key of a keyset version; the control plane stores and
 * returns the bytes and never sees a key. Names are visible metadata, like file names.
 */
public final class VaultRoutes {
  /** Largest ciphertext accepted (64 KiB of value plus the AEAD tag). */
  public static final int MAX_CIPHERTEXT = 64 * 1024 + 16;
  static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,127}");
  private static final String BASE = "/v1/workspaces/{workspace_id}/vault";
  private final Wiring w;

  public VaultRoutes(Wiring w) {
    this.w = w;
  }

  private static final Schema VAULT_NAME = Schema.string(1, 128).describe("A-Z a-z 0-9 . _ / -, starting with a letter or digit");
  private static final Schema VERSION = Schema.integer(1, Integer.MAX_VALUE).describe("the keyset version the entry is sealed under");
  private static final Schema SEALED = Schema.object()
      .required("name", VAULT_NAME).required("keyset_version", VERSION)
      .required("enc", Schema.base64().describe("HPKE encapsulated key, 32 bytes")).required("ciphertext", Schema.base64().describe("16 bytes to 64 KiB + 16"))
      .build();
  private static final Schema ENTRY_META = Schema.named("VaultEntryMeta", Schema.object()
      .required("id", Schema.uuid()).required("name", Schema.string()).required("keyset_version", VERSION)
      .required("size", Schema.integer(0, Integer.MAX_VALUE).describe("ciphertext bytes")).required("updated_at", Schema.time()).build());
  private static final Schema ENTRY = Schema.named("VaultEntry", Schema.object()
      .required("id", Schema.uuid()).required("name", Schema.string()).required("keyset_version", VERSION)
      .required("enc", Schema.base64()).required("ciphertext", Schema.base64()).required("updated_at", Schema.time()).build());
  private static final Schema CANDIDATE_META = Schema.named("VaultCandidateMeta", candidate(false));
  private static final Schema GRANT_ITEM = Schema.object()
      .required("machine_id", Schema.uuid()).required("keyset_version", VERSION).required("created_at", Schema.time()).build();

  private static Schema candidate(boolean withCiphertext) {
    Schema.ObjectBuilder b = Schema.object()
        .required("id", Schema.uuid()).required("name", Schema.string()).required("keyset_version", VERSION)
        .required("proposed_by", Schema.uuid().describe("account id")).required("created_at", Schema.time());
    if (withCiphertext) {
      b.required("enc", Schema.base64()).required("ciphertext", Schema.base64());
    }
    return b.build();
  }

  public void register(ApiRoutes routes) {
    Schema grantIn = Schema.object()
        .required("machine_id", Schema.uuid()).required("keyset_version", VERSION)
        .required("enc", Schema.base64()).required("ciphertext", Schema.base64().describe("the vault keys HPKE-sealed to the machine's X25519 key, 16 bytes to 16 KiB"))
        .build();
    Schema machineReadIn = dev.umbra.controlplane.devices.MachineRequest.schema().required("name", Schema.string(1, 128)).build()
        .describe("signature over \"umbra-machine-vault/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\\n<name>\"");
    Schema machineRead = Schema.object()
        .required("grant", Schema.object().required("keyset_version", VERSION).required("enc", Schema.base64()).required("ciphertext", Schema.base64()).build())
        .required("entry", ENTRY).build();
    routes
        .add(HttpMethod.GET, BASE + "/entries", "List vault entries (names and sizes)", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.list(ENTRY_META), Handlers.json(200, this::list))
        .add(HttpMethod.POST, BASE + "/entries", "Write a vault entry (HPKE ciphertext) by name", Auth.API_TOKEN, 200, SEALED, ENTRY_META, Handlers.json(200, this::put))
        .add(HttpMethod.GET, BASE + "/entries/{entry_id}", "Read a vault entry's ciphertext", Auth.API_TOKEN, 200, Schema.NO_BODY, ENTRY, Handlers.json(200, this::get))
        .add(HttpMethod.DELETE, BASE + "/entries/{entry_id}", "Delete a vault entry", Auth.API_TOKEN, 204, Schema.NO_BODY, Schema.EMPTY, Handlers.json(204, this::delete))
        .add(HttpMethod.GET, BASE + "/candidates", "List proposed vault entries", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.list(CANDIDATE_META), Handlers.json(200, this::candidates))
        .add(HttpMethod.POST, BASE + "/candidates", "Propose a vault entry (HPKE ciphertext)", Auth.API_TOKEN, 201, SEALED, CANDIDATE_META, Handlers.json(201, this::propose))
        .add(HttpMethod.GET, BASE + "/candidates/{candidate_id}", "Read a proposed entry's ciphertext", Auth.API_TOKEN, 200, Schema.NO_BODY, candidate(true), Handlers.json(200, this::candidate))
        .add(HttpMethod.DELETE, BASE + "/candidates/{candidate_id}", "Discard a proposed entry", Auth.API_TOKEN, 204, Schema.NO_BODY, Schema.EMPTY, Handlers.json(204, this::discard))
        .add(HttpMethod.GET, BASE + "/grants", "List machines granted vault access (admin)", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.list(GRANT_ITEM), Handlers.json(200, this::grants))
        .add(HttpMethod.POST, BASE + "/grants", "Grant a machine vault access: vault keys HPKE-sealed to it (admin)", Auth.API_TOKEN, 200, grantIn,
            Schema.object().required("machine_id", Schema.uuid()).required("keyset_version", VERSION).build(), Handlers.json(200, this::grant))
        .add(HttpMethod.DELETE, BASE + "/grants/{machine_id}", "Withdraw a machine's vault access (admin)", Auth.API_TOKEN, 204, Schema.NO_BODY, Schema.EMPTY, Handlers.json(204, this::ungrant))
        .add(HttpMethod.POST, "/v1/machine-vault", "A granted machine reads a vault entry's ciphertext and its grant", Auth.MACHINE_SIGNATURE, 200, machineReadIn, machineRead, Handlers.json(200, this::machineRead));
  }

  record Sealed(String name, int keysetVersion, byte[] enc, byte[] ciphertext) {}

  static Sealed sealedIn(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "name", "keyset_version", "enc", "ciphertext");
    String name = Requests.string(body, "name", 1, 128);
    if (!NAME.matcher(name).matches()) {
      throw ApiException.badRequest("name", "name must be 1 to 128 of A-Z a-z 0-9 . _ / - and start with a letter or digit");
    }
    if (!(body.getValue("keyset_version") instanceof Number n) || n.longValue() < 1 || n.longValue() > Integer.MAX_VALUE) {
      throw ApiException.badRequest("keyset_version", "keyset_version must be a positive integer");
    }
    byte[] enc = bytes(body, "enc", 32, 32);
    byte[] ct = bytes(body, "ciphertext", 16, MAX_CIPHERTEXT);
    return new Sealed(name, n.intValue(), enc, ct);
  }

  private static byte[] bytes(JsonObject body, String field, int min, int max) {
    String s = Requests.string(body, field, 1, max * 2);
    byte[] b;
    try {
      b = Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(field, field + " must be base64");
    }
    if (b.length < min || b.length > max) {
      throw ApiException.badRequest(field, field + " must be " + min + " to " + max + " bytes");
    }
    return b;
  }

  private static JsonObject meta(Row r) {
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("name", r.getString("name"))
        .put("keyset_version", r.getInteger("keyset_version"))
        .put("size", r.getInteger("size"))
        .put("updated_at", r.getOffsetDateTime("updated_at").toString());
  }

  private static JsonObject full(Row r) {
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("name", r.getString("name"))
        .put("keyset_version", r.getInteger("keyset_version"))
        .put("enc", Base64.getEncoder().encodeToString(r.getBuffer("enc").getBytes()))
        .put("ciphertext", Base64.getEncoder().encodeToString(r.getBuffer("ciphertext").getBytes()))
        .put("updated_at", r.getOffsetDateTime("updated_at").toString());
  }

  private static Future<Void> requireVersion(SqlConnection conn, int version) {
    return conn.preparedQuery("SELECT 1 FROM keysets WHERE version = $1").execute(Tuple.of(version))
        .compose(rows -> rows.size() == 0
            ? Future.failedFuture(ApiException.badRequest("keyset_version", "the workspace has no keyset of this version"))
            : Future.succeededFuture());
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.MEMBER, (conn, m) ->
            conn.preparedQuery("SELECT id, name, keyset_version, octet_length(ciphertext) AS size, updated_at FROM vault_entries ORDER BY name LIMIT 10000").execute()))
        .map(rows -> {
          JsonArray a = new JsonArray();
          rows.forEach(r -> a.add(meta(r)));
          return new JsonObject().put("items", a);
        });
  }

  private Future<JsonObject> put(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Sealed s = sealedIn(ctx);
    UUID id = w.ids().next();
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.MEMBER, (conn, m) ->
            requireVersion(conn, s.keysetVersion())
                .compose(x -> conn.preparedQuery("INSERT INTO vault_entries (workspace_id, id, name, keyset_version, enc, ciphertext, written_by, created_at, updated_at) "
                        + "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) ON CONFLICT (workspace_id, name) DO UPDATE SET keyset_version = excluded.keyset_version, "
                        + "enc = excluded.enc, ciphertext = excluded.ciphertext, written_by = excluded.written_by, updated_at = excluded.updated_at "
                        + "RETURNING id, name, keyset_version, octet_length(ciphertext) AS size, updated_at")
                    .execute(Tuple.from(new Object[] {wid, id, s.name(), s.keysetVersion(), Buffer.buffer(s.enc()), Buffer.buffer(s.ciphertext()), p.accountId(), w.now()})))
                .map(rows -> meta(rows.iterator().next()))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.VAULT_ENTRY_WRITTEN, "vault:" + j.getString("id"), Outcome.OUTCOME_SUCCESS))));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "entry_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.MEMBER, (conn, m) ->
            conn.preparedQuery("SELECT * FROM vault_entries WHERE id = $1").execute(Tuple.of(id))
                .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("vault entry")) : Future.succeededFuture(full(rows.iterator().next())))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.VAULT_ENTRY_READ, "vault:" + id, Outcome.OUTCOME_SUCCESS))));
  }

  private Future<Void> delete(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "entry_id");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.MEMBER, (conn, m) ->
            conn.preparedQuery("DELETE FROM vault_entries WHERE id = $1").execute(Tuple.of(id))
                .compose(r -> r.rowCount() == 0 ? Future.<Void>failedFuture(ApiException.notFound("vault entry")) : Future.<Void>succeededFuture())
                .onSuccess(v -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.VAULT_ENTRY_DELETED, "vault:" + id, Outcome.OUTCOME_SUCCESS))));
  }

  private static JsonObject candidateJson(Row r, boolean withCiphertext) {
    JsonObject j = new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("name", r.getString("name"))
        .put("keyset_version", r.getInteger("keyset_version"))
        .put("proposed_by", r.getUUID("proposed_by").toString())
        .put("created_at", r.getOffsetDateTime("created_at").toString());
    if (withCiphertext) {
      j.put("enc", Base64.getEncoder().encodeToString(r.getBuffer("enc").getBytes()))
          .put("ciphertext", Base64.getEncoder().encodeToString(r.getBuffer("ciphertext").getBytes()));
    }
    return j;
  }

  private Future<JsonObject> candidates(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.MEMBER, (conn, m) ->
            conn.preparedQuery("SELECT * FROM vault_candidates ORDER BY created_at, id LIMIT 10000").execute()))
        .map(rows -> {
          JsonArray a = new JsonArray();
          rows.forEach(r -> a.add(candidateJson(r, false)));
          return new JsonObject().put("items", a);
        });
  }

  private Future<JsonObject> propose(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Sealed s = sealedIn(ctx);
    UUID id = w.ids().next();
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.MEMBER, (conn, m) ->
            requireVersion(conn, s.keysetVersion())
                .compose(x -> conn.preparedQuery("INSERT INTO vault_candidates (workspace_id, id, name, keyset_version, enc, ciphertext, proposed_by, created_at) "
                        + "VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING *")
                    .execute(Tuple.from(new Object[] {wid, id, s.name(), s.keysetVersion(), Buffer.buffer(s.enc()), Buffer.buffer(s.ciphertext()), p.accountId(), w.now()})))
                .map(rows -> candidateJson(rows.iterator().next(), false))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.VAULT_ENTRY_WRITTEN, "vault_candidate:" + id, Outcome.OUTCOME_SUCCESS))));
  }

  private Future<JsonObject> candidate(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "candidate_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.MEMBER, (conn, m) ->
            conn.preparedQuery("SELECT * FROM vault_candidates WHERE id = $1").execute(Tuple.of(id))
                .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("vault candidate")) : Future.succeededFuture(candidateJson(rows.iterator().next(), true)))));
  }

  private Future<Void> discard(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "candidate_id");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.MEMBER, (conn, m) ->
            conn.preparedQuery("DELETE FROM vault_candidates WHERE id = $1").execute(Tuple.of(id))
                .compose(r -> r.rowCount() == 0 ? Future.<Void>failedFuture(ApiException.notFound("vault candidate")) : Future.<Void>succeededFuture())
                .onSuccess(v -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.VAULT_ENTRY_DELETED, "vault_candidate:" + id, Outcome.OUTCOME_SUCCESS))));
  }

  // ---- grants to machines ----

  /** The bytes a machine signs to read entry {@code name}. */
  public static byte[] machineReadMessage(UUID workspaceId, UUID machineId, long timestampMs, String name) {
    return ("umbra-machine-vault/v1\n" + workspaceId + "\n" + machineId + "\n" + timestampMs + "\n" + name).getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private Future<JsonObject> grants(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("SELECT machine_id, keyset_version, created_at FROM vault_grants ORDER BY machine_id").execute()))
        .map(rows -> {
          JsonArray a = new JsonArray();
          rows.forEach(r -> a.add(new JsonObject().put("machine_id", r.getUUID("machine_id").toString())
              .put("keyset_version", r.getInteger("keyset_version")).put("created_at", r.getOffsetDateTime("created_at").toString())));
          return new JsonObject().put("items", a);
        });
  }

  private Future<JsonObject> grant(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "machine_id", "keyset_version", "enc", "ciphertext");
    UUID mid = Requests.uuid(Requests.string(body, "machine_id", 36, 36), "machine_id");
    if (!(body.getValue("keyset_version") instanceof Number n) || n.longValue() < 1 || n.longValue() > Integer.MAX_VALUE) {
      throw ApiException.badRequest("keyset_version", "keyset_version must be a positive integer");
    }
    byte[] enc = bytes(body, "enc", 32, 32);
    byte[] ct = bytes(body, "ciphertext", 16, 16 * 1024);
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("SELECT 1 FROM machines WHERE id = $1 AND revoked_at IS NULL").execute(Tuple.of(mid))
                .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("machine")) : requireVersion(conn, n.intValue()))
                .compose(x -> conn.preparedQuery("INSERT INTO vault_grants (workspace_id, machine_id, keyset_version, enc, ciphertext, granted_by, created_at) "
                        + "VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (workspace_id, machine_id) DO UPDATE SET keyset_version = excluded.keyset_version, "
                        + "enc = excluded.enc, ciphertext = excluded.ciphertext, granted_by = excluded.granted_by, created_at = excluded.created_at")
                    .execute(Tuple.from(new Object[] {wid, mid, n.intValue(), Buffer.buffer(enc), Buffer.buffer(ct), p.accountId(), w.now()})))
                .map(x -> new JsonObject().put("machine_id", mid.toString()).put("keyset_version", n.intValue()))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.POLICY_UPDATED, "vault_grant:" + mid, Outcome.OUTCOME_SUCCESS))));
  }

  private Future<Void> ungrant(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("DELETE FROM vault_grants WHERE machine_id = $1").execute(Tuple.of(mid))
                .compose(r -> r.rowCount() == 0 ? Future.<Void>failedFuture(ApiException.notFound("vault grant")) : Future.<Void>succeededFuture())
                .onSuccess(v -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.POLICY_UPDATED, "vault_grant:" + mid + ":withdrawn", Outcome.OUTCOME_SUCCESS))));
  }

  private Future<JsonObject> machineRead(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "workspace_id", "machine_id", "timestamp_ms", "signature", "name");
    String name = Requests.string(body, "name", 1, 128);
    MachineRequest m = MachineRequest.parse(w, body);
    return m.run(w, ctx, machineReadMessage(m.workspaceId(), m.machineId(), m.timestampMs(), name), conn ->
        conn.preparedQuery("SELECT keyset_version, enc, ciphertext FROM vault_grants WHERE machine_id = $1").execute(Tuple.of(m.machineId()))
            .compose(g -> g.size() == 0 ? Future.<JsonObject>failedFuture(ApiException.notFound("vault grant"))
                : conn.preparedQuery("SELECT * FROM vault_entries WHERE name = $1").execute(Tuple.of(name))
                    .compose(e -> {
                      if (e.size() == 0) {
                        return Future.failedFuture(ApiException.notFound("vault entry"));
                      }
                      Row gr = g.iterator().next();
                      JsonObject grantJson = new JsonObject().put("keyset_version", gr.getInteger("keyset_version"))
                          .put("enc", Base64.getEncoder().encodeToString(gr.getBuffer("enc").getBytes()))
                          .put("ciphertext", Base64.getEncoder().encodeToString(gr.getBuffer("ciphertext").getBytes()));
                      return Future.succeededFuture(new JsonObject().put("grant", grantJson).put("entry", full(e.iterator().next())));
                    }))
            .onSuccess(j -> w.audit(ctx, m.workspaceId(), ActorKind.ACTOR_KIND_MACHINE, m.machineId(), AuditAction.VAULT_ENTRY_READ,
                "vault:" + j.getJsonObject("entry").getString("id"), Outcome.OUTCOME_SUCCESS)));
  }
}
