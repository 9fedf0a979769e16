package dev.umbra.client.trust;

import dev.umbra.client.trust.DeviceTrust.Pin;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.sign.Signed;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The pinned trust material of one binding, {@code trust.json} (0600) in the binding's directory:
 * the signed keyset chain from version 1 to the current version, and the signed revocations. The
 * chain is re-verified when loaded, so an edited file fails closed.
 */
public final class TrustStore {
  public static final String FILE = "trust.json";
  private final Path file;

  public TrustStore(Path bindingDir) {
    this.file = bindingDir.resolve(FILE);
  }

  public Path file() {
    return file;
  }

  /** The pinned verifier of one binding of this machine (empty when nothing is pinned yet). */
  public static Optional<DeviceTrust> forBinding(
      dev.umbra.client.binding.BindingStore store, dev.umbra.client.binding.Binding b) {
    return new TrustStore(store.root().resolve(b.machineId().toString())).load(b.workspaceId());
  }

  public Optional<DeviceTrust> load(UUID workspaceId) {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      JsonObject j = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
      List<Signed> chain = new ArrayList<>();
      for (Object o : j.getJsonArray("chain", new JsonArray())) {
        chain.add(Signed.fromJson((JsonObject) o));
      }
      TrustModel.Keyset k = KeysetChain.verifyFromStart(workspaceId, chain);
      Signed keyset = chain.get(chain.size() - 1);
      // stored revocations were verified when they arrived (possibly under an earlier keyset); they
      // can only take trust away, so an edited file fails safe
      List<Signed> revs = new ArrayList<>();
      Set<UUID> revoked = new HashSet<>();
      for (Object o : j.getJsonArray("revocations", new JsonArray())) {
        Signed r = Signed.fromJson((JsonObject) o);
        TrustModel.Revocation rev = TrustModel.Revocation.of(r);
        if (rev.workspaceId().equals(workspaceId)) {
          revs.add(r);
          revoked.add(rev.deviceId());
        }
      }
      DeviceTrust t = new DeviceTrust(workspaceId, new Pin(k, keyset, chain, revoked, revs));
      // current credentials are verified again under the current keyset: an edited file can only
      // drop them (ending sessions), never add one
      List<Signed> creds = new ArrayList<>();
      for (Object o : j.getJsonArray("credentials", new JsonArray())) {
        creds.add(Signed.fromJson((JsonObject) o));
      }
      if (!creds.isEmpty()) {
        t.update(List.of(), List.of(), creds);
      }
      return Optional.of(t);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new MalformedInputException(
          "the pinned trust file " + file + " is invalid: " + e.getMessage());
    }
  }

  public void save(Pin pin) {
    JsonArray revs = new JsonArray();
    pin.revocations().forEach(r -> revs.add(r.toJson()));
    JsonArray chain = new JsonArray();
    pin.chain().forEach(k -> chain.add(k.toJson()));
    JsonArray creds = new JsonArray();
    pin.current().entrySet().stream()
        .sorted(java.util.Map.Entry.comparingByKey())
        .forEach(e -> creds.add(e.getValue().toJson()));
    JsonObject j =
        new JsonObject()
            .put("format", "umbra-trust-pin/v1")
            .put("chain", chain)
            .put("revocations", revs)
            .put("credentials", creds);
    try {
      PrivateFiles.replace(file, j.encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Pins from scratch (first use): the chain must verify from version 1. */
  public static DeviceTrust pinFirst(
      UUID workspaceId, List<Signed> chain, List<Signed> revocations) {
    return pinFirst(workspaceId, chain, revocations, List.of());
  }

  /** As {@link #pinFirst(UUID, List, List)}, keeping the verified current credentials too. */
  public static DeviceTrust pinFirst(
      UUID workspaceId, List<Signed> chain, List<Signed> revocations, List<Signed> credentials) {
    TrustModel.Keyset first = KeysetChain.verifyFromStart(workspaceId, chain);
    Signed firstSigned = chain.get(0);
    DeviceTrust t =
        new DeviceTrust(
            workspaceId,
            new Pin(
                TrustModel.Keyset.of(firstSigned),
                firstSigned,
                List.of(firstSigned),
                new HashSet<>(),
                List.of()));
    t.update(chain, revocations, credentials);
    if (t.pin().keyset().version() != first.version()) {
      throw new IllegalStateException("keyset chain verification disagreed");
    }
    return t;
  }
}
