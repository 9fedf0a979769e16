package dev.umbra.cli.recovery;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.devices.DeviceStore;
import dev.umbra.cli.devices.KeysetBundle;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.cli.devices.WorkspaceProtection.Verified;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.envelope.WorkspaceKeyEnvelope;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.P256PrivateKey;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra recovery-kit create|rotate|confirm|list|restore}: an offline key that can open the
 * workspace keyset when every device is lost (docs/device-trust.md). Losing every device and the
 * kit makes protected data unrecoverable.
 */
@Command(
    name = "recovery-kit",
    description =
        "The Recovery Kit: offline key material that restores access when every device is lost.",
    subcommands = {
      RecoveryKitCommand.Create.class,
      RecoveryKitCommand.Rotate.class,
      RecoveryKitCommand.Confirm.class,
      RecoveryKitCommand.ListCmd.class,
      RecoveryKitCommand.Restore.class
    })
public final class RecoveryKitCommand {
  public static final String FORMAT = "umbra-recovery-kit/v1";

  /** Writes a new kit (file + printable form) and registers it as pending. */
  static void create(
      CliContext ctx, Api api, UUID w, Path out, boolean rotate, dev.umbra.cli.Output output) {
    WorkspaceProtection wp = new WorkspaceProtection(api, w);
    JsonArray kits =
        api.get(ControlPlanePaths.recoveryKits(w)).getJsonArray("items", new JsonArray());
    boolean any =
        kits.stream()
            .map(JsonObject.class::cast)
            .anyMatch(k -> "confirmed".equals(k.getString("status")));
    if (any && !rotate) {
      throw new CliException(
          "the workspace has a Recovery Kit already: use `umbra recovery-kit rotate`");
    }
    if (!any && rotate) {
      throw new CliException(
          "the workspace has no confirmed Recovery Kit: use `umbra recovery-kit create`");
    }
    KeysetBundle b = wp.unlock();
    Verified v = wp.keyset();
    P256KeyPair key = P256KeyPair.generate();
    UUID kitId = UUID.randomUUID();
    Signed kit =
        Signed.sign(
            new TrustModel.RecoveryKit(w, kitId, key.publicKey(), ctx.clock().instant().toString())
                .fields(),
            b.signing().privateKey());
    WorkspaceKeyEnvelope env = b.seal(key.publicKey(), "recovery", kitId);
    Path file =
        out != null ? out : Path.of("umbra-recovery-kit-" + kitId + ".json").toAbsolutePath();
    Path printable =
        file.resolveSibling(file.getFileName().toString().replaceAll("\\.json$", "") + ".txt");
    JsonObject kitFile =
        new JsonObject()
            .put("format", FORMAT)
            .put("workspace_id", w.toString())
            .put("kit_id", kitId.toString())
            .put("control_plane_url", api.saved().controlPlaneUrl())
            .put("workspace_root_keyset", v.rootSigned().toJson())
            .put(
                "recovery_private_key",
                HexFormat.of().formatHex(key.privateKey().exportPrivateBytes()));
    writeNew(file, kitFile.encodePrettily());
    writeNew(printable, printable(kitFile));
    JsonObject r =
        api.call(
            "POST",
            ControlPlanePaths.recoveryKits(w),
            new JsonObject()
                .put("kit", kit.toJson())
                .put("envelope", new JsonObject(new String(env.toJson(), StandardCharsets.UTF_8))));
    output.print(
        ctx.out(),
        r.put("file", file.toString()).put("printable", printable.toString()),
        "wrote the Recovery Kit to "
            + file
            + " (printable: "
            + printable
            + ").\n"
            + "Store it offline (print it, then delete the files), then run: umbra recovery-kit confirm "
            + kitId
            + "\n"
            + (rotate ? "The previous kit stays valid until you confirm this one.\n" : "")
            + "Losing every device and this kit makes the workspace's protected data unrecoverable.");
  }

  static String printable(JsonObject kit) {
    String hex = kit.getString("recovery_private_key");
    StringBuilder groups = new StringBuilder();
    for (int i = 0; i < hex.length(); i += 4) {
      groups.append(hex, i, Math.min(hex.length(), i + 4)).append(i % 32 == 28 ? "\n    " : " ");
    }
    return "UMBRA RECOVERY KIT ("
        + FORMAT
        + ")\n"
        + "Keep this offline. Anyone holding it and an admin login can open the workspace's protected data.\n"
        + "Losing every device and this kit makes that data unrecoverable.\n\n"
        + "workspace: "
        + kit.getString("workspace_id")
        + "\n"
        + "kit:       "
        + kit.getString("kit_id")
        + "\n"
        + "server:    "
        + kit.getString("control_plane_url")
        + "\n\n"
        + "recovery private key:\n    "
        + groups.toString().strip()
        + "\n\n"
        + "full kit file (umbra recovery-kit restore <file> reads this JSON):\n"
        + kit.encodePrettily()
        + "\n";
  }

  static void writeNew(Path file, String text) {
    try {
      PrivateFiles.createNew(file, text);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      throw new CliException(file + " exists; choose another --out");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  @Command(
      name = "create",
      description =
          "Create the workspace's first Recovery Kit (writes a file and a printable form).")
  public static final class Create extends InWorkspace {
    @Option(
        names = "--out",
        paramLabel = "<file>",
        description = "Where to write the kit (default: ./umbra-recovery-kit-<id>.json).")
    Path out;

    public Create(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      create(ctx, api, w, out, false, output);
    }
  }

  @Command(
      name = "rotate",
      description =
          "Create a new Recovery Kit; the old one stays valid until the new one is confirmed.")
  public static final class Rotate extends InWorkspace {
    @Option(names = "--out", paramLabel = "<file>", description = "Where to write the kit.")
    Path out;

    public Rotate(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      create(ctx, api, w, out, true, output);
    }
  }

  @Command(
      name = "confirm",
      description = "Confirm a new kit is stored offline; retires the previous one.")
  public static final class Confirm extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<kit-id>")
    String kit;

    public Confirm(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject r =
          api.call(
              "POST",
              ControlPlanePaths.recoveryKitConfirmation(w, UUID.fromString(kit)),
              new JsonObject());
      output.print(ctx.out(), r, "confirmed Recovery Kit " + kit + "; earlier kits are retired");
    }
  }

  @Command(name = "list", description = "List Recovery Kits.")
  public static final class ListCmd extends InWorkspace {
    public ListCmd(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      output.table(
          ctx.out(),
          api.get(ControlPlanePaths.recoveryKits(w)).getJsonArray("items", new JsonArray()),
          List.of("id", "status", "created_at", "confirmed_at"));
    }
  }

  @Command(
      name = "restore",
      description =
          "Make this CLI a trusted device again from a Recovery Kit file (after losing every device).")
  public static final class Restore implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "<kit-file>")
    Path file;

    @Option(
        names = "--name",
        description = "Name of the new device (default: cli-<user>-restored).")
    String name;

    @Mixin dev.umbra.cli.Output output;

    public Restore(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      JsonObject kit;
      try {
        if (Files.isSymbolicLink(file)
            || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
            || Files.size(file) > 64 * 1024) {
          throw new CliException(file + " is not a Recovery Kit file");
        }
        kit = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
      } catch (io.vertx.core.json.DecodeException e) {
        throw new CliException(file + " is not a Recovery Kit file (not JSON)");
      }
      if (!FORMAT.equals(kit.getString("format"))) {
        throw new CliException(file + " is not a Recovery Kit file (format)");
      }
      UUID w;
      UUID kitId;
      P256KeyPair key;
      Signed root;
      try {
        w = UUID.fromString(kit.getString("workspace_id"));
        kitId = UUID.fromString(kit.getString("kit_id"));
        key =
            P256KeyPair.fromPrivateKey(
                P256PrivateKey.fromBytes(
                    HexFormat.of().parseHex(kit.getString("recovery_private_key"))));
        root = Signed.fromJson(kit.getJsonObject("workspace_root_keyset"));
      } catch (RuntimeException e) {
        throw new CliException(file + " is a damaged Recovery Kit: " + e.getMessage());
      }
      Api api = new Api(ctx);
      DeviceStore store = new DeviceStore(ctx.home(), w);
      store.delete();
      KeyFiles.ensurePrivateDirectory(ctx.home());
      DeviceStore.Device d =
          store.loadOrCreate(
              name != null ? name : "cli-" + ctx.env().getOrDefault("USER", "user") + "-restored");
      WorkspaceProtection wp = new WorkspaceProtection(api, w, store);
      List<Signed> chain =
          api.get(ControlPlanePaths.keyset(w)).getJsonArray("keysets", new JsonArray()).stream()
              .map(o -> Signed.fromJson((JsonObject) o))
              .toList();
      Verified v = wp.verify(chain, root, null);
      JsonObject e = api.get(ControlPlanePaths.recoveryKitEnvelope(w, kitId));
      if (e.getInteger("keyset_version", -1) != v.current().version()) {
        throw new CliException(
            "the kit's envelope is not of the current keyset: was the kit retired?");
      }
      KeysetBundle b;
      try {
        b =
            KeysetBundle.open(
                WorkspaceKeyEnvelope.fromJson(
                    e.getJsonObject("envelope").encode().getBytes(StandardCharsets.UTF_8)),
                key,
                w,
                v.current().version(),
                "recovery",
                kitId);
      } catch (CryptoException ex) {
        throw new CliException(
            "the Recovery Kit does not open the workspace keyset: " + ex.getMessage());
      }
      if (!b.matches(v.current())) {
        throw new CliException(
            "the keyset in the kit's envelope is not the verified workspace keyset: refusing");
      }
      wp.requestTrust(d);
      JsonObject row = restoreApprove(wp, d, b, v);
      output.print(
          ctx.out(), row, "restored: this CLI is trusted device " + d.id() + " (" + d.name() + ")");
      return 0;
    }
  }

  static JsonObject restoreApprove(
      WorkspaceProtection wp, DeviceStore.Device d, KeysetBundle b, Verified v) {
    return wp.approveRestored(d, b, v);
  }
}
