package dev.umbra.cli.devices;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.devices.DeviceStore.Device;
import dev.umbra.cli.devices.WorkspaceProtection.Verified;
import dev.umbra.client.http.ApiError;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.util.Optional;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code umbra device trust}: make this CLI a trusted device of the workspace. */
@Command(
    name = "device",
    description = "This CLI as a device of the workspace (Workspace Protection).",
    subcommands = {DeviceCommand.Trust.class})
public final class DeviceCommand {

  @Command(
      name = "trust",
      description = {
        "Ask the workspace to trust this CLI: makes its keys, sends a signed request, shows the verification code",
        "and waits until a trusted device approves it. On a workspace without a keyset, its owner's first device",
        "creates the keyset and is trusted at once (non-interactive)."
      })
  public static final class Trust extends InWorkspace {
    @Option(names = "--name", description = "Device name (default: cli-<user>).")
    String name;

    @Option(
        names = "--wait",
        paramLabel = "<seconds>",
        defaultValue = "600",
        description = "Seconds to wait for approval (0: do not wait).")
    int waitSeconds;

    public Trust(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      DeviceStore store = new DeviceStore(ctx.home(), w);
      WorkspaceProtection wp = new WorkspaceProtection(api, w, store);
      Optional<Device> existing = store.load();
      Device d =
          store.loadOrCreate(name != null ? name : "cli-" + ctx.env().getOrDefault("USER", "user"));
      Optional<Verified> ks = wp.keysetIfAny();
      if (ks.isEmpty()) {
        JsonObject row = wp.createKeyset(d);
        output.print(
            ctx.out(),
            row,
            "created the workspace keyset; this CLI is trusted device "
                + d.id()
                + " ("
                + d.name()
                + ")");
        return;
      }
      Verified v = ks.get();
      JsonObject row = requestOnce(api, w, wp, store, d, existing.isPresent());
      String code = wp.code(d.keys(), v);
      if (!"trusted".equals(row.getString("status"))) {
        ctx.err().println("Verification code: " + code);
        ctx.err().println("On a trusted device, check that it shows the same code, then run:");
        ctx.err().println("  umbra devices approve " + d.id() + " --code " + code);
        ctx.err().flush();
      }
      row = awaitApproval(api, w, d, row);
      String status = row.getString("status");
      if ("pending".equals(status)) {
        output.print(
            ctx.out(),
            row.put("verification_code", code),
            "waiting for approval of device " + d.id() + " (code " + code + ")");
        return;
      }
      if (!"trusted".equals(status)) {
        throw new CliException(
            "this device was "
                + status
                + "; run `umbra device trust` again after removing "
                + store.dir());
      }
      v = wp.keyset();
      if (wp.verifiedCredential(row, v).isEmpty()) {
        throw new CliException(
            "the control plane says this device is trusted, but its credential does not verify against the workspace key: refusing");
      }
      wp.unlock();
      output.print(ctx.out(), row, "this CLI is trusted device " + d.id() + " (" + d.name() + ")");
    }

    /**
     * This device's row: its trust request, sent once (again when the keys exist here but the
     * request never arrived); a device whose first request fails is deleted here.
     */
    private static JsonObject requestOnce(
        Api api, UUID w, WorkspaceProtection wp, DeviceStore store, Device d, boolean existed) {
      if (existed) {
        try {
          return api.get(ControlPlanePaths.device(w, d.id()));
        } catch (ApiError e) {
          if (e.status() != 404) {
            throw e;
          }
          return wp.requestTrust(d);
        }
      }
      try {
        return wp.requestTrust(d);
      } catch (ApiError e) {
        store.delete();
        throw e;
      }
    }

    /** Polls the device's row while it is pending, for at most {@code --wait} seconds. */
    private JsonObject awaitApproval(Api api, UUID w, Device d, JsonObject row) {
      long deadline = ctx.clock().millis() + waitSeconds * 1000L;
      while ("pending".equals(row.getString("status")) && ctx.clock().millis() < deadline) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new CliException("interrupted while waiting for approval");
        }
        row = api.get(ControlPlanePaths.device(w, d.id()));
      }
      return row;
    }
  }
}
