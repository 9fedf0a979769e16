package dev.umbra.client.ttypolicy;

import dev.umbra.client.trust.TrustModel;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.webtty.PolicyDocumentSchema;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.ServerPolicy;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A machine's WebTTY server policy (docs/webtty.md, "Server policy"): whether sessions are
 * recorded, who may join, whether stdin is recorded, and a version that only increases. As a
 * document it is the canonical JSON (DESIGN.md §7) {@code
 * {"type":"umbra-webtty-policy/v1","workspace_id","machine_id","version","recording","join",
 * "record_stdin","issued_at","signer_device_id","reviewers"}}, signed by a trusted device's Ed25519
 * key ({@code signer_device_id} is absent from an unsigned document, accepted only without
 * Workspace Protection). {@code reviewers} (absent when there are none) names trusted devices that
 * get every input key of the machine's sessions, so their exports read stdin: each entry is {@code
 * {"device_id","webtty_key":{"payload","signature"}}}, the device's WebTTY key binding as the
 * device signed it, sorted by device id; the daemon vouches for each under its pin.
 */
public record TtyPolicy(
    UUID workspaceId,
    UUID machineId,
    long version,
    boolean recording,
    Join join,
    boolean recordStdin,
    String issuedAt,
    UUID signerDeviceId,
    List<Reviewer> reviewers) {
  public static final String TYPE = PolicyDocumentSchema.TYPE;

  /**
   * At most this many characters in a document (reviewers carry their signed WebTTY key bindings).
   */
  public static final int MAX_DOCUMENT = PolicyDocumentSchema.MAX_DOCUMENT;

  /** At most this many reviewers. */
  public static final int MAX_REVIEWERS = PolicyDocumentSchema.MAX_REVIEWERS;

  /** A reviewer: a trusted device and its WebTTY key binding (signed by that device). */
  public record Reviewer(UUID deviceId, Signed webttyKey) {
    /**
     * The X25519 key the binding names (parsed, not verified: {@code TtyPolicyPin} verifies it).
     */
    public X25519PublicKey key() {
      return TrustModel.DeviceWebTtyKey.of(webttyKey).key();
    }
  }

  public TtyPolicy {
    reviewers = reviewers == null ? List.of() : List.copyOf(reviewers);
  }

  /** A policy naming no reviewers. */
  public TtyPolicy(
      UUID workspaceId,
      UUID machineId,
      long version,
      boolean recording,
      Join join,
      boolean recordStdin,
      String issuedAt,
      UUID signerDeviceId) {
    this(
        workspaceId,
        machineId,
        version,
        recording,
        join,
        recordStdin,
        issuedAt,
        signerDeviceId,
        List.of());
  }

  /** The reviewers' X25519 keys (each input key is wrapped to them). */
  public List<X25519PublicKey> reviewerKeys() {
    List<X25519PublicKey> out = new ArrayList<>();
    for (Reviewer r : reviewers) {
      out.add(r.key());
    }
    return out;
  }

  /** Who may join a live session as a viewer, strictest first. */
  public enum Join {
    NOBODY("nobody", JoinPolicy.JOIN_POLICY_NOBODY),
    ADMINS("admins", JoinPolicy.JOIN_POLICY_GRANTED_ADMINS),
    MEMBERS("members", JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    private final String wire;
    private final JoinPolicy proto;

    Join(String wire, JoinPolicy proto) {
      this.wire = wire;
      this.proto = proto;
    }

    public String wire() {
      return wire;
    }

    public JoinPolicy proto() {
      return proto;
    }

    /**
     * The value of {@code s} ({@code nobody}, {@code admins}, {@code members}); anything else is
     * malformed.
     */
    public static Join of(String s) {
      for (Join j : values()) {
        if (j.wire.equals(s)) {
          return j;
        }
      }
      throw new MalformedInputException("join must be nobody, members or admins");
    }

    /** The stricter of the two (fewer may join). */
    public Join stricter(Join other) {
      return ordinal() <= other.ordinal() ? this : other;
    }
  }

  /**
   * What a machine does when no admin set a policy: record everything, granted members may join.
   */
  public static TtyPolicy builtInDefault(UUID workspaceId, UUID machineId) {
    return new TtyPolicy(workspaceId, machineId, 0, true, Join.MEMBERS, true, null, null);
  }

  /**
   * The strictest policy, used while the policy the daemon held can no longer be verified (its
   * signer was revoked, or it is unsigned and the workspace became protected): nobody joins and
   * nothing is recorded — it lets less through than any policy an admin could sign.
   */
  public static TtyPolicy strictest(UUID workspaceId, UUID machineId) {
    return new TtyPolicy(workspaceId, machineId, 0, false, Join.NOBODY, false, null, null);
  }

  public Map<String, Object> fields() {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", TYPE);
    m.put("workspace_id", workspaceId.toString());
    m.put("machine_id", machineId.toString());
    m.put("version", version);
    m.put("recording", recording);
    m.put("join", join.wire());
    m.put("record_stdin", recordStdin);
    m.put("issued_at", issuedAt);
    if (signerDeviceId != null) {
      m.put("signer_device_id", signerDeviceId.toString());
    }
    if (!reviewers.isEmpty()) {
      List<Object> list = new ArrayList<>();
      reviewers.stream()
          .sorted(java.util.Comparator.comparing(r -> r.deviceId().toString()))
          .forEach(
              r -> {
                Map<String, Object> binding = new LinkedHashMap<>();
                binding.put("payload", r.webttyKey().payload());
                binding.put("signature", HexFormat.of().formatHex(r.webttyKey().signature()));
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("device_id", r.deviceId().toString());
                e.put("webtty_key", binding);
                list.add(e);
              });
      m.put("reviewers", list);
    }
    return m;
  }

  /** The canonical document text (what is signed). */
  public String canonical() {
    return CanonicalJson.encodeToString(fields());
  }

  /** Parses a document; anything not exactly this schema in canonical form is malformed. */
  public static TtyPolicy parse(String payload) {
    Map<?, ?> f = PolicyDocumentSchema.members(payload);
    if (!(f.get("version") instanceof Long v) || v < 1) {
      throw new MalformedInputException("version must be a positive integer");
    }
    if (!(f.get("recording") instanceof Boolean rec)
        || !(f.get("record_stdin") instanceof Boolean stdin)) {
      throw new MalformedInputException("recording and record_stdin must be true or false");
    }
    if (!(f.get("join") instanceof String join)) {
      throw new MalformedInputException("join must be a string");
    }
    if (!(f.get("issued_at") instanceof String issued)
        || issued.isEmpty()
        || issued.length() > 64) {
      throw new MalformedInputException("issued_at must be an ISO-8601 time");
    }
    UUID signer =
        f.containsKey("signer_device_id")
            ? uuid(f.get("signer_device_id"), "signer_device_id")
            : null;
    List<Reviewer> reviewers =
        f.containsKey("reviewers") ? reviewers(f.get("reviewers")) : List.of();
    return new TtyPolicy(
        uuid(f.get("workspace_id"), "workspace_id"),
        uuid(f.get("machine_id"), "machine_id"),
        v,
        rec,
        Join.of(join),
        stdin,
        issued,
        signer,
        reviewers);
  }

  /**
   * 1 to {@link #MAX_REVIEWERS} entries {@code {"device_id","webtty_key":{"payload","signature"}}},
   * strictly sorted by device id.
   */
  private static List<Reviewer> reviewers(Object o) {
    if (!(o instanceof List<?> list) || list.isEmpty() || list.size() > MAX_REVIEWERS) {
      throw new MalformedInputException(
          "reviewers must be a list of 1 to " + MAX_REVIEWERS + " entries");
    }
    List<Reviewer> out = new ArrayList<>();
    String previous = "";
    for (Object e : list) {
      if (!(e instanceof Map<?, ?> m)
          || m.size() != 2
          || !(m.get("webtty_key") instanceof Map<?, ?> b)
          || b.size() != 2
          || !(b.get("payload") instanceof String payload)
          || !(b.get("signature") instanceof String sig)
          || sig.length() != 128) {
        throw new MalformedInputException(
            "a reviewer is exactly {device_id, webtty_key: {payload, signature}}");
      }
      UUID id = uuid(m.get("device_id"), "reviewer device_id");
      if (id.toString().compareTo(previous) <= 0) {
        throw new MalformedInputException("reviewers must be sorted by device_id without repeats");
      }
      previous = id.toString();
      try {
        out.add(new Reviewer(id, new Signed(payload, HexFormat.of().parseHex(sig))));
      } catch (IllegalArgumentException x) {
        throw new MalformedInputException("a reviewer's webtty_key signature must be hex");
      }
    }
    return out;
  }

  private static UUID uuid(Object o, String name) {
    if (!(o instanceof String s) || s.length() != 36) {
      throw new MalformedInputException(name + " must be a UUID");
    }
    try {
      UUID id = UUID.fromString(s);
      if (!id.toString().equals(s)) {
        throw new IllegalArgumentException();
      }
      return id;
    } catch (IllegalArgumentException e) {
      throw new MalformedInputException(name + " must be a UUID (lowercase)");
    }
  }

  /**
   * This policy made stricter by the machine's local override (docs/configuration.md): the override
   * can only take away — turn recording or stdin recording off, narrow who may join — never add to
   * what the workspace's policy allows.
   */
  public TtyPolicy tightenedBy(LocalOverride o) {
    return new TtyPolicy(
        workspaceId,
        machineId,
        version,
        recording && o.recording().orElse(true),
        o.join().map(join::stricter).orElse(join),
        recordStdin && o.recordStdin().orElse(true),
        issuedAt,
        signerDeviceId,
        reviewers);
  }

  /** What the daemon registers with the engine. */
  public ServerPolicy toProto() {
    return ServerPolicy.newBuilder()
        .setRecording(recording)
        .setJoin(join.proto())
        .setRecordStdin(recordStdin)
        .build();
  }
}
