package dev.umbra.cli.tty;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.X25519KeyPair;
import java.nio.file.Path;

/**
 * This CLI's WebTTY identity under {@code UMBRA_HOME/cli/tty/}: an Ed25519 key that signs
 * ClientProofs (the key a daemon pins in its tty-authorized-keys until device trust lands) and an
 * X25519 key that session key grants are wrapped to (live view and recording export).
 */
public record TtyKeys(Ed25519KeyPair signing, X25519KeyPair agreement, Path dir) {
  public static TtyKeys loadOrCreate(Path umbraHome) {
    Path cli = KeyFiles.ensurePrivateDirectory(umbraHome.resolve("cli"));
    Path dir = KeyFiles.ensurePrivateDirectory(cli.resolve("tty"));
    return new TtyKeys(
        KeyFiles.loadOrGenerateEd25519(dir.resolve("ed25519.key")),
        KeyFiles.loadOrGenerateX25519(dir.resolve("x25519.key")),
        dir);
  }

  public Path pins() {
    return dir.resolve("pins");
  }
}
