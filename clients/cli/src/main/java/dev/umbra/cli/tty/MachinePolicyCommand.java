package dev.umbra.cli.tty;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.devices.DeviceStore;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.ttypolicy.TtyPolicy;
import dev.umbra.client.ttypolicy.TtyPolicyPin;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra machines policy <machine> [--recording on|off] [--join nobody|members|admins]
 * [--record-stdin on|off]} (docs/cli.md, docs/webtty.md "Server policy"). Without options it shows
 * the machine's WebTTY policy and verifies who signed it; with options it builds the next version
 * of the document ({@code umbra-webtty-policy/v1}), signs it with this CLI's trusted device key
 * (under Workspace Protection; unsigned without a keyset) and stores it (admins only).
 */
@Command(
    name = "policy",
    description =
        "Show or set a machine's WebTTY policy (recording, who may join, stdin recording); setting needs an admin on a trusted device.")
public final class MachinePolicyCommand extends InWorkspace {
  @Parameters(index = "0", paramLabel = "<machine>")
  String machine;

  @Option(
      names = "--recording",
      paramLabel = "on|off",
      description = "Record sessions (ciphertext) on the WebTTY engine.")
  String recording;

  @Option(
      names = "--join",
      paramLabel = "nobody|members|admins",
      description = "Who may join a live session as a viewer (with a key grant from the opener).")
  String join;

  @Option(
      names = "--record-stdin",
      paramLabel = "on|off",
      description = "Also record what is typed (only when recording is on).")
  String recordStdin;

  @Option(
      names = "--reviewer",
      paramLabel = "<member|device>",
      description =
          "Workspace Protection: a member (all their trusted devices with a published WebTTY key) or a device whose exports may read recorded stdin; the daemon wraps every input key to them. Repeatable; replaces the current reviewers.")
  List<String> reviewers = new ArrayList<>();

  @Option(
      names = "--no-reviewers",
      description =
          "Name no reviewers (only the daemon's side and whoever typed read recorded stdin).")
  boolean noReviewers;

  public MachinePolicyCommand(CliContext ctx) {
    super(ctx);
  }

  static Optional<Boolean> onOff(String v, String option) {
    if (v == null) {
      return Optional.empty();
    }
    return switch (v) {
      case "on", "true" -> Optional.of(true);
      case "off", "false" -> Optional.of(false);
      default -> throw new CliException(option + " must be on or off");
    };
  }

  /** The stored document as this CLI verified it: its policy, or why it does not verify. */
  record Checked(Optional<TtyPolicy> policy, String signer, String problem) {}

  static Checked check(
      Api api,
      UUID w,
      UUID machineId,
      JsonObject stored,
      WorkspaceProtection wp,
      Optional<WorkspaceProtection.Verified> keyset) {
    JsonObject doc = stored.getJsonObject("policy");
    if (doc == null) {
      return new Checked(Optional.empty(), null, null);
    }
    TtyPolicyPin.Document d;
    TtyPolicy p;
    try {
      d = TtyPolicyPin.Document.fromJson(doc);
      p = TtyPolicy.parse(d.payload());
    } catch (CryptoException | IllegalArgumentException e) {
      return new Checked(Optional.empty(), null, "the stored document is malformed");
    }
    if (!p.workspaceId().equals(w) || !p.machineId().equals(machineId)) {
      return new Checked(
          Optional.empty(), null, "the stored document names another workspace or machine");
    }
    if (d.signature() == null) {
      return keyset.isPresent()
          ? new Checked(
              Optional.empty(),
              "nobody (unsigned)",
              "unsigned, but the workspace is protected: daemons apply the strictest policy until an admin signs one")
          : new Checked(Optional.of(p), "nobody (unsigned: the workspace has no keyset)", null);
    }
    if (keyset.isEmpty() || p.signerDeviceId() == null) {
      return new Checked(
          Optional.empty(), null, "signed, but this workspace has no keyset to verify it against");
    }
    JsonObject row;
    try {
      row = api.get(ControlPlanePaths.device(w, p.signerDeviceId()));
    } catch (dev.umbra.client.http.ApiError e) {
      return new Checked(
          Optional.empty(),
          "device " + p.signerDeviceId(),
          "its signer is not a device of this workspace");
    }
    Optional<TrustModel.Credential> c = wp.verifiedCredential(row, keyset.get());
    if (c.isEmpty()) {
      return new Checked(
          Optional.empty(),
          "device " + p.signerDeviceId(),
          "its signer is no longer a trusted device: daemons apply the strictest policy until an admin signs a new one");
    }
    String who = "device " + c.get().name() + " (" + c.get().deviceId() + ")";
    try {
      new Signed(d.payload(), d.signature()).verify(c.get().keys().signingKey());
    } catch (CryptoException e) {
      return new Checked(Optional.empty(), who, "the signature does not verify");
    }
    return new Checked(Optional.of(p), who, null);
  }

  @Override
  protected void run(Api api, UUID w) {
    UUID machineId =
        UUID.fromString(dev.umbra.cli.commands.MachinesCommand.resolve(api, w, machine));
    String path = ControlPlanePaths.machineTtyPolicy(w, machineId);
    JsonObject stored = api.get(path);
    WorkspaceProtection wp = new WorkspaceProtection(api, w);
    Optional<WorkspaceProtection.Verified> keyset = wp.keysetIfAny();
    Checked checked = check(api, w, machineId, stored, wp, keyset);
    Optional<Boolean> rec = onOff(recording, "--recording");
    Optional<Boolean> stdin = onOff(recordStdin, "--record-stdin");
    Optional<TtyPolicy.Join> j;
    try {
      j = Optional.ofNullable(join).map(TtyPolicy.Join::of);
    } catch (CryptoException e) {
      throw new CliException("--join must be nobody, members or admins");
    }
    if (!reviewers.isEmpty() && noReviewers) {
      throw new CliException("give --reviewer or --no-reviewers, not both");
    }
    if (!reviewers.isEmpty() && keyset.isEmpty()) {
      throw new CliException(
          "--reviewer needs Workspace Protection: reviewers are trusted devices, vouched for by the workspace key");
    }
    if (rec.isEmpty() && stdin.isEmpty() && j.isEmpty() && reviewers.isEmpty() && !noReviewers) {
      show(stored, checked);
      return;
    }
    TtyPolicy base =
        base(w, machineId, stored, checked, rec.isPresent() && stdin.isPresent() && j.isPresent());
    long version = Math.max(base.version(), stored.getLong("version", 0L)) + 1;
    UUID signer = null;
    Optional<DeviceStore.Device> device = Optional.empty();
    if (keyset.isPresent()) {
      wp.ownCredential(); // this device must hold a valid credential of the current keyset, else
      // nobody would accept its signature
      device = Optional.of(wp.store().require());
      signer = device.get().id();
    }
    List<TtyPolicy.Reviewer> chosen = reviewers(api, w, wp, keyset, base);
    TtyPolicy next =
        new TtyPolicy(
            w,
            machineId,
            version,
            rec.orElse(base.recording()),
            j.orElse(base.join()),
            stdin.orElse(base.recordStdin()),
            ctx.clock().instant().toString(),
            signer,
            chosen);
    JsonObject doc =
        device
            .map(d -> Signed.sign(next.fields(), d.signing().privateKey()).toJson())
            .orElseGet(() -> new JsonObject().put("payload", next.canonical()));
    JsonObject r = api.call("PUT", path, new JsonObject().put("policy", doc));
    output.print(
        ctx.out(),
        r,
        "machine "
            + machineId
            + ": WebTTY policy v"
            + version
            + " set ("
            + summary(next)
            + "), "
            + (signer == null
                ? "unsigned (the workspace has no keyset)"
                : "signed by this device (" + signer + ")")
            + "; daemons apply it at their next sync (within a minute)");
  }

  /**
   * The policy the options change: the values not given come from the document as verified here,
   * never from the listing columns; a stored policy that does not verify is replaced only when
   * every value is given ({@code allGiven}).
   */
  private static TtyPolicy base(
      UUID w, UUID machineId, JsonObject stored, Checked checked, boolean allGiven) {
    if (checked.policy().isPresent()) {
      return checked.policy().get();
    }
    if (stored.getJsonObject("policy") == null || allGiven) {
      return TtyPolicy.builtInDefault(w, machineId);
    }
    throw new CliException(
        "the current policy does not verify ("
            + checked.problem()
            + "): give --recording, --join and --record-stdin explicitly");
  }

  /** The reviewers of the next policy: {@code --reviewer}s, none, or those of {@code base}. */
  private List<TtyPolicy.Reviewer> reviewers(
      Api api,
      UUID w,
      WorkspaceProtection wp,
      Optional<WorkspaceProtection.Verified> keyset,
      TtyPolicy base) {
    if (reviewers.isEmpty()) {
      return noReviewers ? List.of() : base.reviewers();
    }
    // resolved from the signed trust material exactly as `umbra tty share --with` (verified
    // against the pinned keyset)
    List<TtyPolicy.Reviewer> chosen = new ArrayList<>();
    for (TtyRecipients.Recipient r : TtyRecipients.named(api, wp, keyset.get(), w, reviewers)) {
      chosen.add(new TtyPolicy.Reviewer(r.deviceId(), r.vouch().webttyKey()));
    }
    return chosen;
  }

  static String summary(TtyPolicy p) {
    return "recording "
        + (p.recording() ? "on" : "off")
        + ", join "
        + p.join().wire()
        + ", record stdin "
        + (p.recordStdin() ? "on" : "off")
        + (p.reviewers().isEmpty()
            ? ""
            : ", reviewers " + p.reviewers().stream().map(r -> r.deviceId().toString()).toList());
  }

  private void show(JsonObject stored, Checked checked) {
    JsonObject j = stored.copy();
    if (stored.getJsonObject("policy") == null) {
      TtyPolicy d = TtyPolicy.builtInDefault(UUID.randomUUID(), UUID.randomUUID());
      j.put("verified", false)
          .put(
              "effective_default",
              new JsonObject()
                  .put("recording", d.recording())
                  .put("join", d.join().wire())
                  .put("record_stdin", d.recordStdin()));
      output.print(
          ctx.out(),
          j,
          "no WebTTY policy set: daemons use the built-in default ("
              + summary(d)
              + ")"
              + " made stricter by their local override (UMBRA_TTY_*)");
      return;
    }
    j.put("verified", checked.problem() == null)
        .put("signer", checked.signer())
        .put("problem", checked.problem());
    StringBuilder t = new StringBuilder();
    if (checked.policy().isPresent()) {
      TtyPolicy p = checked.policy().get();
      t.append("WebTTY policy v")
          .append(p.version())
          .append(": ")
          .append(summary(p))
          .append("\nissued at ")
          .append(p.issuedAt())
          .append(", signed by ")
          .append(checked.signer())
          .append(" (verified)");
    } else {
      t.append("WebTTY policy v")
          .append(stored.getLong("version"))
          .append(": NOT VERIFIED: ")
          .append(checked.problem());
      if (checked.signer() != null) {
        t.append("\nsigner: ").append(checked.signer());
      }
    }
    output.print(ctx.out(), j, t.toString());
  }
}
