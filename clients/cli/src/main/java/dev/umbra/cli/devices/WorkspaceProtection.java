package dev.umbra.cli.devices;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliException;
import dev.umbra.cli.devices.DeviceStore.Device;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.trust.KeysetChain;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.trust.TrustModel.Credential;
import dev.umbra.client.trust.TrustModel.Keyset;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.envelope.WorkspaceKeyEnvelope;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.sign.VerificationCodes;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The client side of Workspace Protection (docs/device-trust.md). Everything the control plane
 * returns is verified here against what this device pinned before it is used: the keyset chain,
 * device credentials, kits. The private keyset exists only in memory, opened from this device's
 * envelope when a command needs it.
 */
public final class WorkspaceProtection {
  public static final String KIND = "cli";
  private final Api api;
  private final UUID wid;
  private final DeviceStore store;
  private final Clock clock;

  public WorkspaceProtection(Api api, UUID workspaceId) {
    this(api, workspaceId, new DeviceStore(api.context().home(), workspaceId));
  }

  public WorkspaceProtection(Api api, UUID workspaceId, DeviceStore store) {
    this.api = api;
    this.wid = workspaceId;
    this.store = store;
    this.clock = api.context().clock();
  }

  public DeviceStore store() {
    return store;
  }

  public UUID workspaceId() {
    return wid;
  }

  private String base() {
    return ControlPlanePaths.workspace(wid);
  }

  /** The verified keyset chain: its root (version 1) and newest version. */
  public record Verified(Keyset root, Signed rootSigned, Keyset current, Signed currentSigned) {}

  /** Fetches and verifies the chain; empty when the workspace has no keyset yet. */
  public Optional<Verified> keysetIfAny() {
    List<Signed> chain = new ArrayList<>();
    for (Object o : api.get(base() + "/keyset").getJsonArray("keysets", new JsonArray())) {
      chain.add(Signed.fromJson((JsonObject) o));
    }
    Optional<DeviceStore.Pin> pin = store.pin();
    if (chain.isEmpty()) {
      if (pin.isPresent()) {
        throw new CliException(
            "the control plane shows no keyset, but this device pinned one: refusing (docs/device-trust.md)");
      }
      return Optional.empty();
    }
    return Optional.of(
        verify(
            chain,
            pin.map(DeviceStore.Pin::root).orElse(null),
            pin.map(DeviceStore.Pin::current).orElse(null)));
  }

  /**
   * Verifies {@code chain} from a pinned root (or from its own first entry when none) and pins the
   * result.
   */
  public Verified verify(List<Signed> chain, Signed pinnedRoot, Signed pinnedCurrent) {
    try {
      Keyset current;
      if (pinnedRoot == null) {
        current = KeysetChain.verifyFromStart(wid, chain);
      } else {
        if (chain.isEmpty() || !chain.get(0).equals(pinnedRoot)) {
          throw new CliException(
              "the control plane shows another workspace key than the one this device pinned: refusing");
        }
        Signed from = pinnedCurrent == null ? pinnedRoot : pinnedCurrent;
        current = KeysetChain.verifyFrom(Keyset.of(from), from, chain);
      }
      Signed currentSigned =
          chain.stream()
              .filter(s -> Keyset.of(s).version() == current.version())
              .findFirst()
              .orElseThrow();
      Verified v = new Verified(Keyset.of(chain.get(0)), chain.get(0), current, currentSigned);
      if (store.load().isPresent()) {
        store.savePin(new DeviceStore.Pin(v.rootSigned(), v.currentSigned()));
      }
      return v;
    } catch (CryptoException e) {
      throw new CliException(
          "the workspace keyset chain does not verify: " + e.getMessage() + " (refusing)");
    }
  }

  public Verified keyset() {
    return keysetIfAny()
        .orElseThrow(
            () ->
                new CliException(
                    "the workspace has no keyset yet: its first owner runs `umbra device trust`"));
  }

  /** Opens this device's envelope and checks the keys inside are the verified current keyset's. */
  public KeysetBundle unlock() {
    Device d = store.require();
    Verified v = keyset();
    JsonObject e = api.get(base() + "/devices/" + d.id() + "/envelope");
    int version = e.getInteger("keyset_version", -1);
    if (version != v.current().version()) {
      throw new CliException(
          "this device has no envelope of the current keyset (version "
              + v.current().version()
              + "): is it still trusted?");
    }
    return openChecked(
        KeysetBundle.envelopeFrom(e.getJsonObject("envelope")), d.envelope(), v, "device", d.id());
  }

  static KeysetBundle openChecked(
      WorkspaceKeyEnvelope env, P256KeyPair key, Verified v, String kind, UUID id) {
    KeysetBundle b;
    try {
      b = KeysetBundle.open(env, key, v.current().workspaceId(), v.current().version(), kind, id);
    } catch (CryptoException e) {
      throw new CliException("the keyset envelope does not open: " + e.getMessage());
    }
    if (!b.matches(v.current())) {
      throw new CliException(
          "the keyset in the envelope is not the verified workspace keyset: refusing");
    }
    return b;
  }

  private String now() {
    return clock.instant().toString();
  }

  public TrustModel.Request request(Device d) {
    return new TrustModel.Request(wid, d.id(), d.keys(), d.name(), KIND, clock.millis());
  }

  /** The first owner's first device: makes the keyset, trusts itself. */
  public JsonObject createKeyset(Device d) {
    KeysetBundle b = KeysetBundle.generate(wid);
    Signed keyset = Signed.sign(b.publicKeyset(clock.instant()).fields(), b.signing().privateKey());
    Signed req = Signed.sign(request(d).fields(), d.signing().privateKey());
    Signed cred =
        Signed.sign(
            new Credential(wid, d.id(), 1, d.keys(), d.name(), KIND, now()).fields(),
            b.signing().privateKey());
    WorkspaceKeyEnvelope env = b.seal(d.envelope().publicKey(), "device", d.id());
    JsonObject r =
        api.call(
            "POST",
            base() + "/keyset",
            new JsonObject()
                .put("keyset", keyset.toJson())
                .put("request", req.toJson())
                .put("credential", cred.toJson())
                .put("envelope", new JsonObject(new String(env.toJson(), StandardCharsets.UTF_8))));
    store.savePin(new DeviceStore.Pin(keyset, keyset));
    return r;
  }

  /** Sends this device's signed trust request. */
  public JsonObject requestTrust(Device d) {
    Signed req = Signed.sign(request(d).fields(), d.signing().privateKey());
    return api.call("POST", base() + "/devices", new JsonObject().put("request", req.toJson()));
  }

  public String code(TrustModel.DeviceKeys keys, Verified v) {
    return TrustModel.verificationCode(wid, keys, v.root().signingKey());
  }

  /**
   * The device's request as its own signature vouches for it (the row's other columns are not
   * used).
   */
  public TrustModel.Request verifiedRequest(JsonObject row) {
    try {
      TrustModel.Request r = TrustModel.Request.of(Signed.fromJson(row.getJsonObject("request")));
      if (!r.workspaceId().equals(wid) || !r.deviceId().toString().equals(row.getString("id"))) {
        throw new CliException("the device request is for another workspace or device: refusing");
      }
      return r;
    } catch (CryptoException e) {
      throw new CliException("the device request does not verify: " + e.getMessage());
    }
  }

  /**
   * A device's credential if the verified current workspace key signed it for exactly this row's
   * request keys.
   */
  public Optional<Credential> verifiedCredential(JsonObject row, Verified v) {
    if (row.getJsonObject("credential") == null || !"trusted".equals(row.getString("status"))) {
      return Optional.empty();
    }
    try {
      TrustModel.Request r = verifiedRequest(row);
      Signed s = Signed.fromJson(row.getJsonObject("credential"));
      Credential c = Credential.of(s);
      s.verify(v.current().signingKey());
      if (!c.workspaceId().equals(wid)
          || !c.deviceId().equals(r.deviceId())
          || c.keysetVersion() != v.current().version()
          || !c.keys().equals(r.keys())) {
        return Optional.empty();
      }
      return Optional.of(c);
    } catch (CryptoException | CliException e) {
      return Optional.empty();
    }
  }

  /**
   * This device and its own credential, verified against the keyset chain (see {@link #trusted()}).
   */
  public record Trusted(Device device, Signed credential, int keysetVersion) {}

  /**
   * This device as a trusted device of the workspace: its credential checked against the verified
   * current keyset and naming this device's keys. Anything else is an error that says what happened
   * and what to do (not yet approved, revoked, unknown to the workspace, no valid credential);
   * there is no state in which a caller gets "not trusted" and carries on without it.
   */
  public Trusted trusted() {
    return trusted(keyset());
  }

  /**
   * As {@link #trusted()}, against a keyset chain the caller verified already (one request fewer).
   */
  public Trusted trusted(Verified v) {
    Device d = store.require();
    return trusted(v, d, ownRow(d));
  }

  /** This device's row at the control plane; a 404 is the "not a device of the workspace" error. */
  private JsonObject ownRow(Device d) {
    try {
      return api.get(base() + "/devices/" + d.id());
    } catch (ApiError e) {
      if (e.status() != 404) {
        throw e;
      }
      throw new CliException(
          "this CLI's device "
              + d.id()
              + " is not a device of the workspace (its request was rejected,"
              + " or never arrived): run `umbra device trust` to ask again");
    }
  }

  /**
   * As {@link #trusted()}, but empty when this CLI holds no device identity for the workspace or
   * the workspace has no keyset (no Workspace Protection). The device row and the keyset chain do
   * not depend on each other, so the row is fetched while the chain is fetched and verified (one
   * round trip fewer on the start-up path, docs/cli.md "Start-up"); the row is judged only against
   * the verified chain, exactly as {@link #trusted(Verified)} does, and every refusal is the same
   * error.
   */
  public Optional<Trusted> trustedIfAny() {
    Optional<Device> device = store.load();
    if (device.isEmpty()) {
      return Optional.empty();
    }
    Device d = device.get();
    CompletableFuture<JsonObject> row = new CompletableFuture<>();
    Thread.ofPlatform()
        .daemon()
        .name("umbra-device-row")
        .start(
            () -> {
              try {
                row.complete(ownRow(d));
              } catch (Throwable t) {
                row.completeExceptionally(t);
              }
            });
    Optional<Verified> keyset = keysetIfAny();
    if (keyset.isEmpty()) {
      return Optional.empty();
    }
    JsonObject fetched;
    try {
      fetched = row.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
    return Optional.of(trusted(keyset.get(), d, fetched));
  }

  private Trusted trusted(Verified v, Device d, JsonObject row) {
    String status = row.getString("status");
    if ("pending".equals(status)) {
      throw new CliException(
          "this CLI's device "
              + d.id()
              + " is not yet approved: a trusted device of the workspace must run"
              + " `umbra devices approve "
              + d.id()
              + " --code "
              + code(d.keys(), v)
              + "` (check the code with `umbra device trust`)");
    }
    if ("revoked".equals(status)) {
      throw new CliException(
          "this CLI's device "
              + d.id()
              + " was revoked from the workspace, so it gets no device-bound"
              + " session and no unbound one either: if that was a mistake, ask a workspace admin; to enrol this CLI again,"
              + " remove "
              + store.dir()
              + " and run `umbra device trust` (an admin approves the new device)");
    }
    Credential c =
        verifiedCredential(row, v)
            .orElseThrow(
                () ->
                    new CliException(
                        "this device has no valid credential of the current keyset (version "
                            + v.current().version()
                            + "): run `umbra device trust`"));
    if (!c.keys().equals(d.keys())) {
      throw new CliException("the credential names other keys than this device's: refusing");
    }
    return new Trusted(d, Signed.fromJson(row.getJsonObject("credential")), c.keysetVersion());
  }

  /**
   * This device's own credential, checked against the verified current keyset: what a client
   * presents to a daemon (with a proof signed by {@link Device#signing()}) to be authorized.
   */
  public Signed ownCredential() {
    return trusted().credential();
  }

  /**
   * As {@link #ownCredential()}, against a keyset chain the caller verified already (one request
   * fewer).
   */
  public Signed ownCredential(Verified keyset) {
    return trusted(keyset).credential();
  }

  /**
   * The device this CLI's session tokens in {@code workspaceId} are bound to (docs/device-trust.md,
   * "Device-bound sessions"): none when this CLI holds no device identity for the workspace or the
   * workspace has no keyset (no Workspace Protection: unbound, as before); this device when it is
   * trusted ({@link #trusted()}); otherwise the error {@link #trusted()} throws, never "none", so a
   * device that was revoked or is not yet approved cannot quietly fall back to an unbound session.
   */
  public static Optional<UUID> sessionDevice(Api api, UUID workspaceId) {
    return api.trust(workspaceId).map(t -> t.device().id());
  }

  /**
   * Approves a pending device after the human compared codes; refuses when the typed code differs.
   */
  public JsonObject approve(UUID deviceId, String typedCode) {
    JsonObject row = api.get(base() + "/devices/" + deviceId);
    TrustModel.Request r = verifiedRequest(row);
    Verified v = keyset();
    if (typedCode == null
        || !VerificationCodes.matches(
            typedCode, TrustModel.codePayload(wid, r.keys(), v.root().signingKey()))) {
      throw new CliException(
          "the verification code does not match this device's keys: do not approve it (it may not be the device you think)");
    }
    return approveVerified(r, unlock(), v);
  }

  /** Approves this device's own pending request with a keyset opened from a Recovery Kit. */
  public JsonObject approveRestored(Device d, KeysetBundle b, Verified v) {
    return approveVerified(request(d), b, v);
  }

  JsonObject approveVerified(TrustModel.Request r, KeysetBundle b, Verified v) {
    Signed cred =
        Signed.sign(
            new Credential(
                    wid, r.deviceId(), v.current().version(), r.keys(), r.name(), r.kind(), now())
                .fields(),
            b.signing().privateKey());
    WorkspaceKeyEnvelope env = b.seal(r.keys().envelopeKey(), "device", r.deviceId());
    return api.call(
        "POST",
        base() + "/devices/" + r.deviceId() + "/approval",
        new JsonObject()
            .put("credential", cred.toJson())
            .put("envelope", new JsonObject(new String(env.toJson(), StandardCharsets.UTF_8))));
  }

  /** Revokes a device with a revocation signed by the workspace key. */
  public JsonObject revoke(UUID deviceId) {
    KeysetBundle b = unlock();
    Signed rev =
        Signed.sign(
            new TrustModel.Revocation(wid, deviceId, now()).fields(), b.signing().privateKey());
    return api.call(
        "POST",
        base() + "/devices/" + deviceId + "/revocation",
        new JsonObject().put("revocation", rev.toJson()));
  }

  /**
   * Rotates the keyset: a new version signed by the current key, new credentials and envelopes for
   * every trusted device whose credential verifies (any other "trusted" device the control plane
   * lists makes the rotation fail), and re-wrapped Recovery Kits.
   */
  public JsonObject rotate() {
    KeysetBundle old = unlock();
    Verified v = keyset();
    KeysetBundle next = old.next();
    Signed keyset =
        Signed.sign(next.publicKeyset(clock.instant()).fields(), old.signing().privateKey());
    JsonArray devices = new JsonArray();
    for (Object o : api.all(base() + "/devices")) {
      JsonObject row = (JsonObject) o;
      if (!"trusted".equals(row.getString("status"))) {
        continue;
      }
      Credential c =
          verifiedCredential(row, v)
              .orElseThrow(
                  () ->
                      new CliException(
                          "device "
                              + row.getString("id")
                              + " is listed as trusted but the workspace key never signed it: refusing to rotate (report this: the control plane may be compromised)"));
      Signed cred =
          Signed.sign(
              new Credential(wid, c.deviceId(), next.version(), c.keys(), c.name(), c.kind(), now())
                  .fields(),
              next.signing().privateKey());
      WorkspaceKeyEnvelope env = next.seal(c.keys().envelopeKey(), "device", c.deviceId());
      devices.add(
          new JsonObject()
              .put("device_id", c.deviceId().toString())
              .put("credential", cred.toJson())
              .put("envelope", new JsonObject(new String(env.toJson(), StandardCharsets.UTF_8))));
    }
    JsonArray kits = new JsonArray();
    for (Object o : api.get(base() + "/recovery-kits").getJsonArray("items", new JsonArray())) {
      JsonObject k = (JsonObject) o;
      if ("retired".equals(k.getString("status"))) {
        continue;
      }
      Signed kitSigned = Signed.fromJson(k.getJsonObject("kit"));
      if (!kitSigned.verifies(v.current().signingKey())) {
        continue; // not signed by the workspace key: left out, so the server retires it
      }
      TrustModel.RecoveryKit kit = TrustModel.RecoveryKit.of(kitSigned);
      Signed resigned = Signed.sign(kit.fields(), next.signing().privateKey());
      WorkspaceKeyEnvelope env = next.seal(kit.publicKey(), "recovery", kit.kitId());
      kits.add(
          new JsonObject()
              .put("kit_id", kit.kitId().toString())
              .put("kit", resigned.toJson())
              .put("envelope", new JsonObject(new String(env.toJson(), StandardCharsets.UTF_8))));
    }
    JsonObject r =
        api.call(
            "POST",
            base() + "/keyset/rotations",
            new JsonObject()
                .put("keyset", keyset.toJson())
                .put("devices", devices)
                .put("recovery_kits", kits));
    keyset();
    return r;
  }
}
