package dev.umbra.cli.devices;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.UsageException;
import dev.umbra.cli.devices.WorkspaceProtection.Verified;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.proto.api.ControlPlanePaths;
import dev.umbra.proto.api.Device;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra devices list|approve|reject|revoke}. */
@Command(
    name = "devices",
    description = "Trusted devices of the workspace (Workspace Protection).",
    subcommands = {
      DevicesCommand.ListCmd.class,
      DevicesCommand.Approve.class,
      DevicesCommand.Reject.class,
      DevicesCommand.Revoke.class
    })
public final class DevicesCommand {

  static UUID id(String s) {
    try {
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      throw new UsageException("'" + s + "' is not a device id (see `umbra devices list`)");
    }
  }

  @Command(
      name = "list",
      description =
          "List devices; VERIFIED says whether this CLI checked the credential against the workspace key.")
  public static final class ListCmd extends InWorkspace {
    public ListCmd(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      WorkspaceProtection wp = new WorkspaceProtection(api, w);
      Verified v = wp.keysetIfAny().orElse(null);
      JsonArray out = new JsonArray();
      for (Object o : api.all(ControlPlanePaths.devices(w))) {
        JsonObject row = (JsonObject) o;
        Device d = Device.fromJson(row);
        JsonObject item =
            new JsonObject()
                .put("id", d.id().toString())
                .put("name", d.name())
                .put("kind", d.kind())
                .put("status", d.status())
                .put("keyset_version", d.keysetVersion())
                .put("created_at", d.createdAt());
        String verified = "no";
        String code = null;
        if (v != null) {
          try {
            TrustModel.Request r = wp.verifiedRequest(row);
            code = wp.code(r.keys(), v);
            verified = wp.verifiedCredential(row, v).isPresent() ? "yes" : "no";
          } catch (CliException e) {
            verified = "FORGED";
          }
        }
        out.add(item.put("verified", verified).put("code", d.pending() ? code : null));
      }
      output.table(
          ctx.out(),
          out,
          List.of("id", "name", "kind", "status", "verified", "code", "created_at"));
    }
  }

  @Command(
      name = "approve",
      description = "Approve a pending device after comparing its verification code.")
  public static final class Approve extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<device-id>")
    String device;

    @Option(
        names = "--code",
        required = true,
        description = "The verification code the new device shows.")
    String code;

    public Approve(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject row = new WorkspaceProtection(api, w).approve(id(device), code);
      Device d = Device.fromJson(row);
      output.print(ctx.out(), row, "approved device " + d.id() + " (" + d.name() + ")");
    }
  }

  @Command(
      name = "reject",
      description =
          "Reject a pending device request (admin); the request is deleted and the device must ask again.")
  public static final class Reject extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<device-id>")
    String device;

    public Reject(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject row =
          api.call("POST", ControlPlanePaths.deviceRejection(w, id(device)), new JsonObject());
      Device d = Device.fromJson(row);
      output.print(
          ctx.out(), row, "rejected the request of device " + d.id() + " (" + d.name() + ")");
    }
  }

  @Command(
      name = "revoke",
      description =
          "Revoke a device (signed by the workspace key), then rotate the keyset for the remaining devices.")
  public static final class Revoke extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<device-id>")
    String device;

    @Option(names = "--no-rotate", description = "Do not rotate the keyset afterwards.")
    boolean noRotate;

    public Revoke(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      WorkspaceProtection wp = new WorkspaceProtection(api, w);
      boolean wasPending =
          "pending".equals(api.get(ControlPlanePaths.device(w, id(device))).getString("status"));
      JsonObject row = wp.revoke(id(device));
      JsonObject result = new JsonObject().put("device", row);
      boolean rotate = !noRotate && !wasPending; // a pending device never held the keyset
      if (rotate) {
        JsonObject chain = wp.rotate();
        result.put("keyset_version", chain.getInteger("current_version"));
      }
      output.print(
          ctx.out(),
          result,
          "revoked device "
              + row.getString("id")
              + (rotate
                  ? "; rotated the workspace keyset to version "
                      + result.getInteger("keyset_version")
                  : ""));
    }
  }
}
