package dev.umbra.cli.relay;

import dev.umbra.cli.CliException;
import dev.umbra.client.tty.PinFiles;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Daemon static keys pinned on first use: {@code UMBRA_HOME/cli/pins/<workspace>/<machine>} holds
 * the hex X25519 key seen in the machine record the first time. A later record with another key is
 * refused (DESIGN.md §6: "server key changed since pinned: refuse to send anything"); re-pairing a
 * machine gives it a new machine id, so a legitimate change never hits an old pin.
 */
public final class PinStore {
  private final Path root;

  public PinStore(Path umbraHome) {
    this.root = umbraHome.resolve("cli").resolve("pins");
  }

  /**
   * The key to use for {@code machine}: the pinned one, which must equal {@code fromRecord}; pins
   * it on first use.
   */
  public X25519PublicKey check(UUID workspace, String machine, X25519PublicKey fromRecord) {
    if (!machine.matches("[A-Za-z0-9._:-]{1,128}")) {
      throw new CliException("not a machine id: " + machine);
    }
    Path file = PinFiles.file(root, workspace, machine);
    String seen = HexFormat.of().formatHex(fromRecord.toBytes());
    try {
      KeyFiles.ensurePrivateDirectory(root.getParent().getParent());
      KeyFiles.ensurePrivateDirectory(root.getParent());
      PinFiles.pinOnFirstUse(
          root,
          file,
          seen,
          pinned ->
              new CliException(
                  "the key of machine "
                      + machine
                      + " changed since it was first used (pinned "
                      + pinned.substring(0, 16)
                      + "..., now "
                      + seen.substring(0, 16)
                      + "...): refusing to connect. "
                      + "If the machine was re-installed, remove "
                      + file
                      + " after checking with its owner."));
      return fromRecord;
    } catch (IOException e) {
      throw new CliException("cannot use the key pins under " + root + ": " + e.getMessage());
    }
  }
}
