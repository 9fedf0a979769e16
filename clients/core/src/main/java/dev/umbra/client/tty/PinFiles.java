package dev.umbra.client.tty;

import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.Function;

/**
 * Keys pinned on first use, one file per peer under {@code <root>/<workspace>/<peer>} (private
 * directories, the file written whole by an atomic move). Used for WebTTY servers ({@link
 * ServerTrust}) and relay daemons (the CLI's pin store); the caller says what a mismatch means.
 */
public final class PinFiles {
  private PinFiles() {}

  /** The file that pins {@code peer} of {@code workspace} under {@code root}. */
  public static Path file(Path root, UUID workspace, String peer) {
    return root.resolve(workspace.toString()).resolve(peer);
  }

  /**
   * Pins {@code seen} in {@code file} when nothing is pinned there yet; when another value is
   * pinned, throws what {@code changed} makes of it (the pinned value).
   */
  public static void pinOnFirstUse(
      Path root, Path file, String seen, Function<String, RuntimeException> changed)
      throws IOException {
    if (Files.exists(file)) {
      String pinned = Files.readString(file, StandardCharsets.US_ASCII).trim();
      if (!pinned.equals(seen)) {
        throw changed.apply(pinned);
      }
      return;
    }
    KeyFiles.ensurePrivateDirectory(root);
    KeyFiles.ensurePrivateDirectory(file.getParent());
    PrivateFiles.createNew(file, (seen + "\n").getBytes(StandardCharsets.US_ASCII));
  }
}
