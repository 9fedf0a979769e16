package dev.umbra.daemon.tty;

import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;

/**
 * The daemon's pinned client keys for WebTTY: {@code <dir>/tty-authorized-keys}, one lowercase hex
 * Ed25519 public key per line, optionally followed by a space and a comment. Re-read on every check
 * (small file, checked once per session), so removing a line takes effect for the next session.
 * Stand-in for signed device credentials (issue 5), see {@link ClientAuthorizer}.
 */
public final class AuthorizedKeys implements ClientAuthorizer {
  public static final String FILE = "tty-authorized-keys";
  private final Path file;

  public AuthorizedKeys(Path dir) {
    this.file = dir.resolve(FILE);
  }

  public Path file() {
    return file;
  }

  public Set<String> keys() {
    Set<String> out = new HashSet<>();
    if (!Files.exists(file)) {
      return out;
    }
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("#")) {
          continue;
        }
        out.add(t.split("\\s+", 2)[0].toLowerCase(Locale.ROOT));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  @Override
  public boolean authorized(UUID workspaceId, Ed25519PublicKey key) {
    return keys().contains(key.toHex());
  }

  /** Adds a key (idempotent); the file is created 0600 in a 0700 directory. */
  public void add(Ed25519PublicKey key, String comment) {
    if (keys().contains(key.toHex())) {
      return;
    }
    try {
      KeyFiles.ensurePrivateDirectory(file.getParent());
      String c = comment == null ? "" : " " + comment.replaceAll("[\\r\\n]", " ");
      PrivateFiles.append(file, (key.toHex() + c + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
