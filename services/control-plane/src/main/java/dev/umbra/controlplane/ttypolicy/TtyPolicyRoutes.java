package dev.umbra.controlplane.ttypolicy;

import dev.umbra.controlplane.Wiring;
import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.http.ApiException;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The WebTTY server policy of each machine (docs/webtty.md, "Server policy"): admins set it, as a
 * canonical JSON document of type {@code umbra-webtty-policy/v1} signed by one of their own trusted
 * devices (unsigned only while the workspace has no keyset); members read it; the machine fetches
 * it with a request signed by its binding key. The checks here (role, signer, signature, version
 * only increasing) are a second line: the daemon verifies the signature and the version again
 * against the trust it pinned and never relies on this service.
 */
public final class TtyPolicyRoutes {
  public static final String TYPE = CryptoConstants.WEBTTY_POLICY_TYPE;
  /** How far a document's {@code issued_at} may be from the server's clock when it is set. */
  static final Duration ISSUED_SKEW = Duration.ofMinutes(10);
  /** The daemon's bound too (reviewers carry their devices' signed WebTTY key bindings). */
  static final int MAX_PAYLOAD = 16 * 1024;
  static final Set<String> JOIN = Set.of("nobody", "members", "admins");
  static final Set<String> SIGNED_FIELDS = Set.of("type", "workspace_id", "machine_id", "version", "recording", "join",
      "record_stdin", "issued_at", "signer_device_id", "reviewers");
  private static final String PATH = "/v1/workspaces/{workspace_id}/machines/{machine_id}/tty-policy";

  static final Schema DOCUMENT = Schema.named("WebTtyPolicyDocument", Schema.object()
      .required("payload", Schema.string(1, MAX_PAYLOAD).describe("canonical JSON of a umbra-webtty-policy/v1 document (docs/webtty.md, Server policy)"))
      .optional("signature", Schema.hex(64).describe("Ed25519 by the signer device over the payload's UTF-8 bytes; absent only without a workspace keyset"))
      .build());
  static final Schema POLICY = Schema.named("WebTtyPolicy", Schema.object()
      .required("machine_id", Schema.uuid())
      .required("version", Schema.integer(0, CryptoConstants.CANONICAL_JSON_MAX_SAFE_INTEGER).describe("0 when no policy was set"))
      .required("policy", Schema.nullable(DOCUMENT))
      .optional("recording", Schema.bool()).optional("join", Schema.oneOf("nobody", "members", "admins")).optional("record_stdin", Schema.bool())
      .optional("signed", Schema.bool()).optional("signer_device_id", Schema.nullable(Schema.uuid()))
      .optional("set_by", Schema.uuid()).optional("updated_at", Schema.time())
      .build().describe("the values beside policy are the control plane's listing; clients and daemons verify policy"));

  private final Wiring w;

  public TtyPolicyRoutes(Wiring w) {
    this.w = w;
  }

  public void register(ApiRoutes routes) {
    routes
        .add(HttpMethod.GET, PATH, "The machine's WebTTY server policy: the stored document (signed by a trusted device under Workspace Protection), its version and values; version 0 and policy null when none was set", Auth.API_TOKEN, 200,
            Schema.NO_BODY, POLICY, Handlers.json(200, this::get))
        .add(HttpMethod.PUT, PATH, "Set the machine's WebTTY server policy (admin): a umbra-webtty-policy/v1 document of a higher version, signed by one of the caller's trusted devices (unsigned only without a workspace keyset)", Auth.API_TOKEN, 200,
            Schema.object().required("policy", DOCUMENT).build(), POLICY, Handlers.json(200, this::put))
        .add(HttpMethod.POST, "/v1/machine-tty-policy", "The WebTTY server policy document for a machine that signs with its binding key (the daemon verifies it against its pinned trust)", Auth.MACHINE_SIGNATURE, 200,
            MachineRequest.schema().build().describe("signature over \"umbra-machine-tty-policy/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\""),
            Schema.object().required("machine_id", Schema.uuid()).required("policy", Schema.nullable(DOCUMENT)).build(), Handlers.json(200, this::machine));
  }

  /** The parsed, checked document of a request. */
  record Doc(String payload, byte[] signature, long version, boolean recording, String join, boolean recordStdin, UUID signer) {}

  static JsonObject json(UUID mid, Row r) {
    JsonObject j = new JsonObject().put("machine_id", mid.toString());
    if (r == null) {
      return j.put("version", 0).put("policy", null);
    }
    JsonObject doc = new JsonObject().put("payload", r.getString("payload"));
    Buffer sig = r.getBuffer("signature");
    if (sig != null) {
      doc.put("signature", HexFormat.of().formatHex(sig.getBytes()));
    }
    UUID signer = r.getUUID("signer_device_id");
    return j.put("version", r.getLong("version"))
        .put("recording", r.getBoolean("recording"))
        .put("join", r.getString("join_policy"))
        .put("record_stdin", r.getBoolean("record_stdin"))
        .put("signed", sig != null)
        .put("signer_device_id", signer == null ? null : signer.toString())
        .put("set_by", r.getUUID("set_by").toString())
        .put("updated_at", r.getOffsetDateTime("updated_at").toString())
        .put("policy", doc);
  }

  private static Future<Row> stored(SqlConnection conn, UUID mid, boolean forUpdate) {
    return conn.preparedQuery("SELECT * FROM webtty_policies WHERE machine_id = $1" + (forUpdate ? " FOR UPDATE" : ""))
        .execute(Tuple.of(mid)).map(rows -> rows.size() == 0 ? null : rows.iterator().next());
  }

  private static Future<Void> machineExists(SqlConnection conn, UUID mid) {
    return conn.preparedQuery("SELECT 1 FROM machines WHERE id = $1").execute(Tuple.of(mid))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("machine")) : Future.succeededFuture());
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) ->
            machineExists(conn, mid).compose(v -> stored(conn, mid, false)).map(r -> json(mid, r))));
  }

  private Future<JsonObject> put(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    JsonObject body = Requests.body(ctx, "policy");
    Doc doc = parse(body, wid, mid);
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            machineExists(conn, mid)
                .compose(v -> currentSigningKey(conn))
                .compose(key -> checkSigner(conn, doc, key, m.accountId()))
                .compose(v -> stored(conn, mid, true))
                .compose(old -> {
                  if (old != null && old.getLong("version") >= doc.version()) {
                    return Future.failedFuture(new ApiException(409, "stale_version",
                        "version must be higher than the stored version " + old.getLong("version"), "policy"));
                  }
                  return conn.preparedQuery("INSERT INTO webtty_policies (workspace_id, machine_id, version, recording, join_policy, "
                          + "record_stdin, payload, signature, signer_device_id, set_by, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) "
                          + "ON CONFLICT (workspace_id, machine_id) DO UPDATE SET version = EXCLUDED.version, recording = EXCLUDED.recording, "
                          + "join_policy = EXCLUDED.join_policy, record_stdin = EXCLUDED.record_stdin, payload = EXCLUDED.payload, "
                          + "signature = EXCLUDED.signature, signer_device_id = EXCLUDED.signer_device_id, set_by = EXCLUDED.set_by, "
                          + "updated_at = EXCLUDED.updated_at WHERE webtty_policies.version < EXCLUDED.version RETURNING *")
                      .execute(Tuple.from(new Object[] {wid, mid, doc.version(), doc.recording(), doc.join(), doc.recordStdin(),
                          doc.payload(), doc.signature() == null ? null : Buffer.buffer(doc.signature()), doc.signer(), m.accountId(), w.now()}))
                      .compose(rows -> rows.size() == 0
                          ? Future.<JsonObject>failedFuture(new ApiException(409, "stale_version", "a newer policy was stored meanwhile", "policy"))
                          : Future.succeededFuture(json(mid, rows.iterator().next())));
                })
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.MACHINE_TTY_POLICY_SET,
                    "machine:" + mid, Outcome.OUTCOME_SUCCESS))));
  }

  /** The workspace's current keyset signing key; null when the workspace has no keyset (no Workspace Protection). */
  private static Future<Ed25519PublicKey> currentSigningKey(SqlConnection conn) {
    return conn.preparedQuery("SELECT payload FROM keysets ORDER BY version DESC LIMIT 1").execute()
        .map(rows -> {
          if (rows.size() == 0) {
            return null;
          }
          Object k = ((Map<?, ?>) CanonicalJson.parse(rows.iterator().next().getString("payload"))).get("signing_public_key");
          return Ed25519PublicKey.fromHex((String) k);
        });
  }

  /**
   * With a keyset the document must be signed by a trusted device of the caller whose credential
   * the current workspace key signed; without one it must be unsigned (there are no trusted devices
   * to sign it, and a signature nobody can check would only look like protection).
   */
  private static Future<Void> checkSigner(SqlConnection conn, Doc doc, Ed25519PublicKey workspaceKey, UUID caller) {
    if (workspaceKey == null) {
      return doc.signature() == null ? Future.succeededFuture()
          : Future.failedFuture(ApiException.badRequest("policy", "the workspace has no keyset: send the policy unsigned (no signature, no signer_device_id)"));
    }
    if (doc.signature() == null) {
      return Future.failedFuture(ApiException.badRequest("policy",
          "the workspace is protected: the policy must be signed by one of your trusted devices (umbra machines policy)"));
    }
    ApiException notTrusted = new ApiException(403, "signer_not_trusted", "signer_device_id is not a trusted device of yours", "policy");
    return conn.preparedQuery("SELECT account_id, status, ed25519_public_key, credential_payload, credential_signature FROM devices WHERE id = $1")
        .execute(Tuple.of(doc.signer()))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(notTrusted);
          }
          Row r = rows.iterator().next();
          if (!caller.equals(r.getUUID("account_id")) || !"trusted".equals(r.getString("status")) || r.getString("credential_payload") == null) {
            return Future.failedFuture(notTrusted);
          }
          byte[] deviceKey = r.getBuffer("ed25519_public_key").getBytes();
          try {
            String cred = r.getString("credential_payload");
            workspaceKey.verify(cred.getBytes(StandardCharsets.UTF_8), r.getBuffer("credential_signature").getBytes());
            Object credKey = ((Map<?, ?>) CanonicalJson.parse(cred)).get("ed25519_public_key");
            if (!HexFormat.of().formatHex(deviceKey).equals(credKey)) {
              return Future.failedFuture(notTrusted);
            }
          } catch (CryptoException | ClassCastException e) {
            return Future.failedFuture(notTrusted); // its credential is of an earlier keyset: not trusted now
          }
          try {
            Ed25519PublicKey.fromBytes(deviceKey).verify(doc.payload().getBytes(StandardCharsets.UTF_8), doc.signature());
          } catch (CryptoException e) {
            return Future.failedFuture(ApiException.badRequest("policy", "policy has a bad signature"));
          }
          return Future.succeededFuture();
        });
  }

  /** Parses and checks the document against the route (ids), the schema and the clock. */
  Doc parse(JsonObject body, UUID wid, UUID mid) {
    if (!(body.getValue("policy") instanceof JsonObject o)) {
      throw ApiException.badRequest("policy", "policy must be an object with payload and (under Workspace Protection) signature");
    }
    for (String k : o.fieldNames()) {
      if (!k.equals("payload") && !k.equals("signature")) {
        throw ApiException.badRequest("policy", "policy has an unknown member");
      }
    }
    if (!(o.getValue("payload") instanceof String payload) || payload.isEmpty() || payload.length() > MAX_PAYLOAD) {
      throw ApiException.badRequest("policy", "policy.payload must be a canonical JSON string of at most " + MAX_PAYLOAD + " characters");
    }
    byte[] sig = null;
    if (o.containsKey("signature")) {
      if (!(o.getValue("signature") instanceof String s) || s.length() != 128) {
        throw ApiException.badRequest("policy", "policy.signature must be 128 hex digits");
      }
      try {
        sig = HexFormat.of().parseHex(s);
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest("policy", "policy.signature must be 128 hex digits");
      }
    }
    Map<?, ?> f;
    try {
      if (!CanonicalJson.canonicalize(payload).equals(payload) || !(CanonicalJson.parse(payload) instanceof Map<?, ?> m)) {
        throw ApiException.badRequest("policy", "policy.payload must be a canonical JSON object");
      }
      f = m;
    } catch (CryptoException e) {
      throw ApiException.badRequest("policy", "policy.payload is malformed");
    }
    for (Object k : f.keySet()) {
      if (!SIGNED_FIELDS.contains(k)) {
        throw ApiException.badRequest("policy", "policy.payload has an unknown member");
      }
    }
    if (!TYPE.equals(f.get("type"))) {
      throw ApiException.badRequest("policy", "policy.payload must have type " + TYPE);
    }
    if (!wid.toString().equals(f.get("workspace_id")) || !mid.toString().equals(f.get("machine_id"))) {
      throw ApiException.badRequest("policy", "policy.payload names another workspace or machine");
    }
    if (!(f.get("version") instanceof Long v) || v < 1) {
      throw ApiException.badRequest("policy", "policy.payload.version must be a positive integer");
    }
    if (!(f.get("recording") instanceof Boolean rec) || !(f.get("record_stdin") instanceof Boolean stdin)) {
      throw ApiException.badRequest("policy", "policy.payload.recording and record_stdin must be true or false");
    }
    if (!(f.get("join") instanceof String join) || !JOIN.contains(join)) {
      throw ApiException.badRequest("policy", "policy.payload.join must be nobody, members or admins");
    }
    if (!(f.get("issued_at") instanceof String issued)) {
      throw ApiException.badRequest("policy", "policy.payload.issued_at must be an ISO-8601 UTC time");
    }
    try {
      if (Duration.between(Instant.parse(issued), w.clock().instant()).abs().compareTo(ISSUED_SKEW) > 0) {
        throw ApiException.badRequest("policy", "policy.payload.issued_at is too far from the server's clock");
      }
    } catch (DateTimeParseException e) {
      throw ApiException.badRequest("policy", "policy.payload.issued_at must be an ISO-8601 UTC time");
    }
    UUID signer = null;
    Object s = f.get("signer_device_id");
    if (s != null) {
      if (!(s instanceof String str) || str.length() != 36) {
        throw ApiException.badRequest("policy", "policy.payload.signer_device_id must be a UUID");
      }
      signer = Requests.uuid(str, "policy");
      if (!signer.toString().equals(str)) { // daemons accept lowercase UUIDs only
        throw ApiException.badRequest("policy", "policy.payload.signer_device_id must be a lowercase UUID");
      }
    }
    if ((signer == null) != (sig == null)) {
      throw ApiException.badRequest("policy", "a signed policy names its signer_device_id; an unsigned one names none");
    }
    // reviewers: trusted devices with their signed WebTTY key bindings; the daemon vouches for each under its pin
    if (f.containsKey("reviewers") && (signer == null || !(f.get("reviewers") instanceof java.util.List<?> rl)
        || rl.isEmpty() || rl.size() > 16 || !rl.stream().allMatch(e -> e instanceof Map<?, ?> em && em.size() == 2
            && em.get("device_id") instanceof String && em.get("webtty_key") instanceof Map<?, ?>))) {
      throw ApiException.badRequest("policy", "policy.payload.reviewers must be 1 to 16 {device_id, webtty_key} entries of a signed policy");
    }
    return new Doc(payload, sig, v, rec, join, stdin, signer);
  }

  /** The bytes a machine signs to fetch its policy (same as the daemon's TtyPolicySync). */
  static byte[] machineMessage(UUID workspaceId, UUID machineId, long timestampMs) {
    return (CryptoConstants.MACHINE_TTY_POLICY_REQUEST + "\n" + workspaceId + "\n" + machineId + "\n" + timestampMs)
        .getBytes(StandardCharsets.UTF_8);
  }

  private Future<JsonObject> machine(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "workspace_id", "machine_id", "timestamp_ms", "signature");
    MachineRequest m = MachineRequest.parse(w, body);
    return m.run(w, ctx, machineMessage(m.workspaceId(), m.machineId(), m.timestampMs()), conn ->
        stored(conn, m.machineId(), false).map(r -> {
          JsonObject j = json(m.machineId(), r);
          // the daemon needs only the document; the listing columns are the control plane's word
          return new JsonObject().put("machine_id", j.getString("machine_id")).put("policy", j.getValue("policy"));
        }));
  }
}
