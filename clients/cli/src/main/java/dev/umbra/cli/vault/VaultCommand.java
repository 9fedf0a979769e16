package dev.umbra.cli.vault;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.WorkspaceList;
import dev.umbra.cli.devices.KeysetBundle;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.cli.devices.WorkspaceProtection.Verified;
import dev.umbra.client.api.Machine;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.vault.MachineVault;
import dev.umbra.client.vault.VaultCrypto;
import dev.umbra.client.vault.VaultGrants;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.hpke.HpkeCiphertext;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.VerificationCodes;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra vault put|get|list|rm}: the context vault, encrypted on this device. */
@Command(
    name = "vault",
    description =
        "The context vault: entries encrypted here to the workspace key; the services store ciphertext.",
    subcommands = {
      VaultCommand.Put.class,
      VaultCommand.Get.class,
      VaultCommand.ListCmd.class,
      VaultCommand.Rm.class,
      VaultCommand.Propose.class,
      VaultCommand.Candidates.class,
      VaultCommand.Accept.class,
      VaultCommand.Reject.class,
      VaultCommand.Grant.class,
      VaultCommand.MachineCode.class,
      VaultCommand.MachineGet.class
    })
public final class VaultCommand {

  /** The items of a vault listing at {@code path} (one answer: the vault is not paged). */
  static JsonArray items(Api api, String path) {
    return api.get(path).getJsonArray("items", new JsonArray());
  }

  static JsonObject find(Api api, UUID w, String name) {
    for (Object o : items(api, ControlPlanePaths.vaultEntries(w))) {
      JsonObject e = (JsonObject) o;
      if (e.getString("name").equals(name)) {
        return e;
      }
    }
    throw new CliException("no vault entry '" + name + "' (see `umbra vault list`)");
  }

  static byte[] readValue(Path from) {
    byte[] value;
    try (InputStream in = from == null ? System.in : Files.newInputStream(from)) {
      value = in.readNBytes(VaultCrypto.MAX_VALUE + 1);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the value: " + e.getMessage(), e);
    }
    if (value.length > VaultCrypto.MAX_VALUE) {
      throw new CliException("a vault value is at most " + VaultCrypto.MAX_VALUE + " bytes");
    }
    return value;
  }

  /**
   * Seals {@code value} to the verified current workspace key and posts it to {@code collection}
   * (the entries' or candidates' path).
   */
  static JsonObject seal(
      Api api, UUID w, Verified v, String collection, String name, byte[] value) {
    int version = v.current().version();
    HpkeCiphertext ct = VaultCrypto.seal(v.current().encryptionKey(), w, name, version, value);
    return api.call(
        "POST",
        collection,
        new JsonObject()
            .put("name", name)
            .put("keyset_version", version)
            .put("enc", Base64.getEncoder().encodeToString(ct.enc()))
            .put("ciphertext", Base64.getEncoder().encodeToString(ct.ciphertext())));
  }

  /** Opens an entry or candidate as returned by the control plane, bound to the name it claims. */
  static byte[] open(KeysetBundle b, UUID w, JsonObject e) {
    try {
      int version = e.getInteger("keyset_version");
      return VaultCrypto.open(
          b.encryptionKey(version),
          w,
          e.getString("name"),
          version,
          Base64.getDecoder().decode(e.getString("enc")),
          Base64.getDecoder().decode(e.getString("ciphertext")));
    } catch (CryptoException
        | IllegalArgumentException
        | NullPointerException
        | ClassCastException ex) {
      throw new CliException(
          "vault entry "
              + e.getString("name")
              + " does not decrypt (tampered, or sealed to another key)");
    }
  }

  @Command(
      name = "put",
      description = "Write an entry; the value is read from stdin (or --from-file).")
  public static final class Put extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    @Option(
        names = "--from-file",
        paramLabel = "<path>",
        description = "Read the value from this file instead of stdin.")
    Path from;

    public Put(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      byte[] value = readValue(from);
      WorkspaceProtection wp = new WorkspaceProtection(api, w);
      wp.store().require();
      JsonObject r = seal(api, w, wp.keyset(), ControlPlanePaths.vaultEntries(w), name, value);
      output.print(ctx.out(), r, "stored " + name + " (" + value.length + " bytes, encrypted)");
    }
  }

  @Command(
      name = "propose",
      description =
          "Propose an entry (e.g. from an agent): sealed to the workspace key, a trusted device accepts it.")
  public static final class Propose extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    @Option(
        names = "--from-file",
        paramLabel = "<path>",
        description = "Read the value from this file instead of stdin.")
    Path from;

    public Propose(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      byte[] value = readValue(from);
      JsonObject r =
          seal(
              api,
              w,
              new WorkspaceProtection(api, w).keyset(),
              ControlPlanePaths.vaultCandidates(w),
              name,
              value);
      output.print(ctx.out(), r, "proposed " + name + " as candidate " + r.getString("id"));
    }
  }

  @Command(name = "candidates", description = "List proposed entries.")
  public static final class Candidates extends WorkspaceList {
    public Candidates(CliContext ctx) {
      super(
          ctx,
          (api, w) -> items(api, ControlPlanePaths.vaultCandidates(w)),
          "id",
          "name",
          "keyset_version",
          "created_at");
    }
  }

  @Command(
      name = "accept",
      description =
          "Accept a proposed entry: decrypt it here and write it as the entry of its name.")
  public static final class Accept extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<candidate-id>")
    String candidate;

    public Accept(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      String path = ControlPlanePaths.vaultCandidate(w, UUID.fromString(candidate));
      JsonObject c = api.get(path);
      WorkspaceProtection wp = new WorkspaceProtection(api, w);
      byte[] value = open(wp.unlock(), w, c);
      JsonObject r =
          seal(api, w, wp.keyset(), ControlPlanePaths.vaultEntries(w), c.getString("name"), value);
      api.call("DELETE", path, null);
      output.print(ctx.out(), r, "accepted " + c.getString("name"));
    }
  }

  @Command(name = "reject", description = "Discard a proposed entry.")
  public static final class Reject extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<candidate-id>")
    String candidate;

    public Reject(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      api.call("DELETE", ControlPlanePaths.vaultCandidate(w, UUID.fromString(candidate)), null);
      output.print(ctx.out(), new JsonObject().put("rejected", candidate), "rejected " + candidate);
    }
  }

  @Command(name = "get", description = "Print an entry's value.")
  public static final class Get extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    public Get(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject meta = find(api, w, name);
      JsonObject e = api.get(ControlPlanePaths.vaultEntry(w, meta.getString("id")));
      if (!name.equals(e.getString("name"))) {
        throw new CliException(
            "the control plane returned another entry than " + name + ": refusing");
      }
      byte[] value = open(new WorkspaceProtection(api, w).unlock(), w, e);
      ctx.out().write(value, 0, value.length);
      ctx.out().flush();
    }
  }

  @Command(name = "list", description = "List entries (names, sizes; values stay encrypted).")
  public static final class ListCmd extends WorkspaceList {
    public ListCmd(CliContext ctx) {
      super(
          ctx,
          (api, w) -> items(api, ControlPlanePaths.vaultEntries(w)),
          "name",
          "size",
          "keyset_version",
          "updated_at");
    }
  }

  @Command(name = "rm", description = "Delete an entry.")
  public static final class Rm extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    public Rm(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject meta = find(api, w, name);
      api.call("DELETE", ControlPlanePaths.vaultEntry(w, meta.getString("id")), null);
      output.print(ctx.out(), new JsonObject().put("deleted", name), "deleted " + name);
    }
  }

  @Command(
      name = "grant",
      description =
          "Let a paired machine's daemon open vault entries: compare the code `umbra vault machine-code` shows on it.")
  public static final class Grant extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<machine-id>")
    String machine;

    @Option(names = "--code", required = true, description = "The code the machine shows.")
    String code;

    public Grant(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      Machine m = Machine.fromJson(api.get(ControlPlanePaths.machine(w, UUID.fromString(machine))));
      UUID mid = m.id();
      X25519PublicKey x = X25519PublicKey.fromHex(m.x25519PublicKey());
      Ed25519PublicKey ed = Ed25519PublicKey.fromHex(m.ed25519PublicKey());
      if (!VerificationCodes.matches(code, TrustModel.machineCodePayload(w, mid, x, ed))) {
        throw new CliException(
            "the code does not match this machine's keys: do not grant it (it may not be the machine you think)");
      }
      WorkspaceProtection wp = new WorkspaceProtection(api, w);
      KeysetBundle b = wp.unlock();
      Map<Integer, X25519KeyPair> keys = new TreeMap<>(b.previous());
      keys.put(b.version(), b.encryption());
      HpkeCiphertext ct = VaultGrants.seal(x, w, mid, b.version(), keys);
      JsonObject r =
          api.call(
              "POST",
              ControlPlanePaths.vaultGrants(w),
              new JsonObject()
                  .put("machine_id", mid.toString())
                  .put("keyset_version", b.version())
                  .put("enc", Base64.getEncoder().encodeToString(ct.enc()))
                  .put("ciphertext", Base64.getEncoder().encodeToString(ct.ciphertext())));
      output.print(
          ctx.out(),
          r,
          "granted machine "
              + mid
              + " vault access (keyset version "
              + b.version()
              + "; grant again after a rotation)");
    }
  }

  @Command(
      name = "machine-code",
      description =
          "On a paired machine: the code of each binding's keys, to compare when granting vault access.")
  public static final class MachineCode implements Callable<Integer> {
    private final CliContext ctx;
    @picocli.CommandLine.Mixin dev.umbra.cli.Output output;

    public MachineCode(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      BindingStore store = new BindingStore(ctx.home());
      JsonArray items = new JsonArray();
      for (Binding b : store.list()) {
        String c =
            TrustModel.machineCode(
                b.workspaceId(),
                b.machineId(),
                store.agreementKey(b).publicKey(),
                store.signingKey(b).publicKey());
        items.add(
            new JsonObject()
                .put("workspace_id", b.workspaceId().toString())
                .put("machine_id", b.machineId().toString())
                .put("name", b.name())
                .put("code", c));
      }
      output.table(ctx.out(), items, List.of("machine_id", "name", "workspace_id", "code"));
      return 0;
    }
  }

  @Command(
      name = "machine-get",
      description = "On a granted machine: print an entry, read with the daemon's binding keys.")
  public static final class MachineGet implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    @Option(
        names = "--machine",
        paramLabel = "<machine-id>",
        description = "Which binding (default: the only one).")
    String machine;

    public MachineGet(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      BindingStore store = new BindingStore(ctx.home());
      List<Binding> all =
          store.list().stream()
              .filter(b -> machine == null || b.machineId().toString().equals(machine))
              .toList();
      if (all.size() != 1) {
        throw new CliException(
            all.isEmpty()
                ? "no such binding on this machine"
                : "this machine has several bindings: pass --machine");
      }
      Binding b = all.get(0);
      byte[] value;
      try {
        // follow the keyset chain from the pin (or pin it now, if pairing came before the keyset)
        var trust =
            new dev.umbra.client.trust.TrustSync(ctx.http(), ctx.clock())
                .sync(b, store.root().resolve(b.machineId().toString()), store.signingKey(b))
                .orElseThrow(() -> new CliException("the workspace has no keyset yet"));
        value =
            new MachineVault(ctx.http(), ctx.clock())
                .read(b, store.signingKey(b), store.agreementKey(b), trust, name);
      } catch (CryptoException e) {
        throw new CliException(
            "vault entry " + name + " does not verify or open: " + e.getMessage());
      }
      ctx.out().write(value, 0, value.length);
      ctx.out().flush();
      return 0;
    }
  }
}
