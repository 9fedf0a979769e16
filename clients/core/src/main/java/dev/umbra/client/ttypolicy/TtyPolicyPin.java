package dev.umbra.client.ttypolicy;

import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.sign.Signed;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;

/**
 * The WebTTY policy one binding accepted, {@code tty-policy.json} (0600) beside its {@code
 * trust.json}, and the daemon's verification of every policy document the control plane serves
 * (docs/webtty.md, "Server policy"). The control plane is not trusted here:
 *
 * <ul>
 *   <li>with Workspace Protection (a pinned keyset) a document counts only when it is signed by the
 *       Ed25519 key of a device whose credential the pinned workspace key signed for the current
 *       keyset version (the credentials the trust sync keeps) and that no signed revocation names;
 *   <li>without it (nothing pinned) only an unsigned document is accepted: there is no key to check
 *       a signature against, and the built-in default it replaces is already the most open policy;
 *   <li>a version lower than the one held (a rollback), or the held version with other content, is
 *       refused; the held policy stays.
 * </ul>
 *
 * The held document is verified again under the current trust each time: when its signer is no
 * longer trusted (revoked, or left out of a rotation), or it is unsigned and the workspace became
 * protected since, the daemon applies {@link TtyPolicy#strictest} until a newer valid document
 * arrives; its version still bounds what is accepted next.
 */
public final class TtyPolicyPin {
  public static final String FILE = "tty-policy.json";

  /** Why a served document was not accepted, or why the held one no longer counts. */
  public enum Refusal {
    MALFORMED("malformed"),
    WRONG_MACHINE("wrong_machine"),
    UNSIGNED_UNDER_PROTECTION("unsigned_under_protection"),
    NO_PINNED_TRUST("no_pinned_trust"),
    UNKNOWN_SIGNER("unknown_signer"),
    SIGNER_REVOKED("signer_revoked"),
    BAD_SIGNATURE("bad_signature"),
    ROLLED_BACK("rolled_back"),
    UNVOUCHED_REVIEWER("unvouched_reviewer"),
    VERSION_REUSED("version_reused");

    private final String code;

    Refusal(String code) {
      this.code = code;
    }

    public String code() {
      return code;
    }
  }

  /**
   * A policy document as served and stored: the canonical text and, when signed, the 64-byte
   * signature.
   */
  public record Document(String payload, byte[] signature) {
    public Document {
      signature = signature == null ? null : signature.clone();
    }

    @Override
    public byte[] signature() {
      return signature == null ? null : signature.clone();
    }

    public JsonObject toJson() {
      JsonObject j = new JsonObject().put("payload", payload);
      return signature == null ? j : j.put("signature", HexFormat.of().formatHex(signature));
    }

    /** The wire form {@code {"payload", "signature"?}}; anything else is malformed. */
    public static Document fromJson(JsonObject j) {
      for (String k : j.fieldNames()) {
        if (!k.equals("payload") && !k.equals("signature")) {
          throw new MalformedInputException("unknown member in a policy document");
        }
      }
      if (!(j.getValue("payload") instanceof String p)
          || p.isEmpty()
          || p.length() > TtyPolicy.MAX_DOCUMENT) {
        throw new MalformedInputException("a policy document needs a payload string");
      }
      Object s = j.getValue("signature");
      if (s == null) {
        return new Document(p, null);
      }
      if (!(s instanceof String hex) || hex.length() != 128) {
        throw new MalformedInputException("a policy signature must be 128 hex digits");
      }
      try {
        return new Document(p, HexFormat.of().parseHex(hex));
      } catch (IllegalArgumentException e) {
        throw new MalformedInputException("a policy signature must be hex");
      }
    }

    boolean sameAs(Document o) {
      return payload.equals(o.payload) && Arrays.equals(signature, o.signature);
    }
  }

  /**
   * Where the policy the daemon applies comes from: {@code policy} (before the local override), the
   * held document, why the document just served was refused (if it was), and why the held one no
   * longer counts (if so).
   */
  public record State(
      TtyPolicy policy,
      Optional<Document> held,
      Optional<Refusal> servedRefused,
      Optional<Refusal> heldInvalid) {
    /** One line for the daemon's log: never the document or a signature. */
    public String describe() {
      String base;
      if (heldInvalid.isPresent()) {
        base =
            "strictest policy (the held policy v"
                + held.map(d -> TtyPolicy.parse(d.payload()).version()).orElse(0L)
                + " no longer verifies: "
                + heldInvalid.get().code()
                + ")";
      } else if (held.isPresent()) {
        base =
            (policy.signerDeviceId() == null ? "unsigned" : "signed")
                + " policy v"
                + policy.version();
      } else {
        base = "built-in default policy (none set)";
      }
      return base
          + ": recording "
          + (policy.recording() ? "on" : "off")
          + ", stdin recorded "
          + (policy.recordStdin() ? "yes" : "no")
          + ", join "
          + policy.join().wire()
          + servedRefused.map(r -> "; the served policy was refused (" + r.code() + ")").orElse("");
    }
  }

  private final Path file;
  private final UUID workspaceId;
  private final UUID machineId;

  public TtyPolicyPin(Path bindingDir, UUID workspaceId, UUID machineId) {
    this.file = bindingDir.resolve(FILE);
    this.workspaceId = workspaceId;
    this.machineId = machineId;
  }

  public Path file() {
    return file;
  }

  /**
   * Why {@code d} does not count as this machine's policy under {@code trust} (the binding's pin;
   * empty without Workspace Protection); empty when it does. Never throws.
   */
  public Optional<Refusal> verify(Document d, Optional<DeviceTrust> trust) {
    TtyPolicy p;
    try {
      p = TtyPolicy.parse(d.payload());
    } catch (CryptoException | IllegalArgumentException e) {
      return Optional.of(Refusal.MALFORMED);
    }
    if (!p.workspaceId().equals(workspaceId) || !p.machineId().equals(machineId)) {
      return Optional.of(Refusal.WRONG_MACHINE);
    }
    if ((p.signerDeviceId() == null) != (d.signature() == null)) {
      return Optional.of(Refusal.MALFORMED);
    }
    if (trust.isEmpty()) {
      // nothing pinned: no key to check a signature against, so a signed document is not taken on
      // the control plane's word; nor is a reviewer (nothing vouches for its key)
      return d.signature() != null
          ? Optional.of(Refusal.NO_PINNED_TRUST)
          : p.reviewers().isEmpty() ? Optional.empty() : Optional.of(Refusal.UNVOUCHED_REVIEWER);
    }
    if (d.signature() == null) {
      return Optional.of(Refusal.UNSIGNED_UNDER_PROTECTION);
    }
    DeviceTrust t = trust.get();
    DeviceTrust.Pin pin = t.pin();
    if (pin.revoked().contains(p.signerDeviceId())) {
      return Optional.of(Refusal.SIGNER_REVOKED);
    }
    Signed credential = pin.current().get(p.signerDeviceId());
    Optional<TrustModel.Credential> c =
        credential == null ? Optional.empty() : t.authorize(credential);
    if (c.isEmpty() || !c.get().deviceId().equals(p.signerDeviceId())) {
      return Optional.of(Refusal.UNKNOWN_SIGNER);
    }
    try {
      new Signed(d.payload(), d.signature()).verify(c.get().keys().signingKey());
    } catch (CryptoException e) {
      return Optional.of(Refusal.BAD_SIGNATURE);
    }
    for (TtyPolicy.Reviewer r : p.reviewers()) {
      if (!vouched(t, r)) {
        return Optional.of(Refusal.UNVOUCHED_REVIEWER);
      }
    }
    return Optional.empty();
  }

  /**
   * A reviewer counts when its device is trusted under the pin (a credential of the current keyset
   * version the pinned workspace key signed, not revoked) and the WebTTY key binding is signed by
   * that device's key, for this workspace and that device: the chain a recipient needs too.
   */
  private boolean vouched(DeviceTrust t, TtyPolicy.Reviewer r) {
    if (t.pin().revoked().contains(r.deviceId())) {
      return false;
    }
    Signed credential = t.pin().current().get(r.deviceId());
    Optional<TrustModel.Credential> c =
        credential == null ? Optional.empty() : t.authorize(credential);
    if (c.isEmpty()
        || !c.get().deviceId().equals(r.deviceId())
        || !c.get().workspaceId().equals(workspaceId)) {
      return false;
    }
    try {
      TrustModel.DeviceWebTtyKey.verified(r.webttyKey(), c.get());
      return true;
    } catch (CryptoException | IllegalArgumentException e) {
      return false;
    }
  }

  /** The held document; empty when none (or the file is unreadable: see {@link #apply}). */
  Optional<Document> held() {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      JsonObject j = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
      return Optional.of(Document.fromJson(j.getJsonObject("policy")));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new MalformedInputException("the held WebTTY policy " + file + " is invalid");
    }
  }

  private void save(Document d) {
    JsonObject j =
        new JsonObject().put("format", "umbra-tty-policy-pin/v1").put("policy", d.toJson());
    try {
      PrivateFiles.replace(file, j.encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Takes the document the control plane served ({@code served}, empty when it serves none) under
   * the binding's current trust: keeps it when it verifies and is newer than the held one, and
   * returns the policy to apply now. A held file that cannot be parsed (edited by hand) counts as a
   * held policy that no longer verifies: the strictest policy applies until a valid one is served.
   */
  public synchronized State apply(Optional<Document> served, Optional<DeviceTrust> trust) {
    Optional<Document> held;
    boolean heldUnreadable = false;
    try {
      held = held();
    } catch (RuntimeException e) {
      held = Optional.empty();
      heldUnreadable = true;
    }
    Optional<TtyPolicy> heldPolicy =
        held.flatMap(
            d -> {
              try {
                return Optional.of(TtyPolicy.parse(d.payload()));
              } catch (RuntimeException e) {
                return Optional.empty();
              }
            });
    Optional<Refusal> servedRefused = Optional.empty();
    if (served.isPresent()) {
      Document d = served.get();
      servedRefused = verify(d, trust);
      if (servedRefused.isEmpty()) {
        long v = TtyPolicy.parse(d.payload()).version();
        long seen = heldPolicy.map(TtyPolicy::version).orElse(0L);
        if (v < seen) {
          servedRefused = Optional.of(Refusal.ROLLED_BACK);
        } else if (v == seen && !d.sameAs(held.orElseThrow())) {
          servedRefused = Optional.of(Refusal.VERSION_REUSED);
        } else if (v > seen) {
          save(d);
          held = Optional.of(d);
          heldPolicy = Optional.of(TtyPolicy.parse(d.payload()));
          heldUnreadable = false;
        }
      }
    }
    if (heldUnreadable) {
      return new State(
          TtyPolicy.strictest(workspaceId, machineId),
          Optional.empty(),
          servedRefused,
          Optional.of(Refusal.MALFORMED));
    }
    if (held.isEmpty()) {
      return new State(
          TtyPolicy.builtInDefault(workspaceId, machineId), held, servedRefused, Optional.empty());
    }
    Optional<Refusal> heldInvalid = verify(held.get(), trust);
    if (heldInvalid.isPresent()) {
      return new State(
          TtyPolicy.strictest(workspaceId, machineId), held, servedRefused, heldInvalid);
    }
    return new State(heldPolicy.orElseThrow(), held, servedRefused, Optional.empty());
  }
}
