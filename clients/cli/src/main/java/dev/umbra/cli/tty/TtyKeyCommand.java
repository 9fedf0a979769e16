package dev.umbra.cli.tty;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.WorkspaceOption;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code umbra tty key}: this CLI's WebTTY public keys (to authorize on a daemon, or to share
 * sessions with).
 */
@Command(
    name = "key",
    description =
        "Show this CLI's WebTTY public keys; --publish makes this trusted device a recipient of teammates' sessions.")
public final class TtyKeyCommand implements Callable<Integer> {
  private final CliContext ctx;
  @Mixin WorkspaceOption ws;

  @Option(
      names = "--publish",
      description =
          "Publish the x25519 key, signed by this CLI's trusted device, so sessions the join policy opens to you include it (Workspace Protection).")
  boolean publish;

  public TtyKeyCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
    if (publish) {
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      WorkspaceProtection wp = new WorkspaceProtection(api, w);
      if (wp.keysetIfAny().isEmpty()) {
        throw new CliException(
            "--publish: the workspace has no keyset, so there are no trusted devices to publish for;"
                + " share the x25519 key below with --share-with instead");
      }
      wp.trusted();
      TtyRecipients.publishOwn(api, wp, keys, ctx.clock());
      ctx.err()
          .println("published: sessions the join policy opens to you will include this device");
    }
    Ed25519PublicKey sig = keys.signing().publicKey();
    ctx.out().println("signing (authorize on a daemon): " + sig.toHex());
    ctx.out().println("x25519 (--share-with):           " + keys.agreement().publicKey().toHex());
    return 0;
  }
}
