package dev.umbra.crypto.keys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The one way Umbra writes a private file (a credential, a pin, a binding, a key, a token): mode
 * 0600 from the moment it exists, never widened by the umask, in a directory the caller made
 * private with {@link KeyFiles#ensurePrivateDirectory}. Whole-file writes go through a 0600
 * temporary file in the same directory and an atomic rename, so a reader sees the old content or
 * the new one, never a part.
 */
public final class PrivateFiles {
  /** Owner read and write, nothing for group and others. */
  public static final Set<PosixFilePermission> FILE_MODE =
      PosixFilePermissions.fromString("rw-------");

  private static final FileAttribute<Set<PosixFilePermission>> FILE_ATTRIBUTE =
      PosixFilePermissions.asFileAttribute(FILE_MODE);

  private PrivateFiles() {}

  /** Writes {@code text} (UTF-8) as the whole of {@code file}, replacing what it held. */
  public static void replace(Path file, String text) throws IOException {
    replace(file, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes {@code bytes} as the whole of {@code file}, replacing what it held. */
  public static void replace(Path file, byte[] bytes) throws IOException {
    Path tmp = temporary(file, bytes);
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      tmp = null;
    } finally {
      deleteQuietly(tmp);
    }
  }

  /**
   * Writes {@code bytes} as a new {@code file}, synced to disk before it appears under its name;
   * {@link FileAlreadyExistsException} when {@code file} exists (nothing is overwritten). The name
   * is taken by a hard link to the written temporary file, which the file system makes at once or
   * refuses: of two writers racing for one name, exactly one wins, and no reader ever sees a part.
   */
  public static void createNew(Path file, byte[] bytes) throws IOException {
    Path tmp = temporary(file, bytes);
    try {
      Files.createLink(file, tmp);
    } finally {
      deleteQuietly(tmp);
    }
  }

  /** {@link #createNew(Path, byte[])} of {@code text} (UTF-8). */
  public static void createNew(Path file, String text) throws IOException {
    createNew(file, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Appends {@code bytes} to {@code file}, creating it (0600) when it does not exist. */
  public static void append(Path file, byte[] bytes) throws IOException {
    try {
      Files.createFile(file, FILE_ATTRIBUTE);
    } catch (FileAlreadyExistsException e) {
      // appending to the file that is there
    }
    Files.write(file, bytes, StandardOpenOption.APPEND);
  }

  /** {@code bytes} in a new synced 0600 file beside {@code file}. */
  private static Path temporary(Path file, byte[] bytes) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = Files.createTempFile(dir, ".tmp-", ".part", FILE_ATTRIBUTE);
    try {
      Files.write(
          tmp,
          bytes,
          StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.SYNC);
      return tmp;
    } catch (IOException | RuntimeException e) {
      deleteQuietly(tmp);
      throw e;
    }
  }

  private static void deleteQuietly(Path tmp) {
    if (tmp == null) {
      return;
    }
    try {
      Files.deleteIfExists(tmp);
    } catch (IOException ignored) {
      // best effort; the temporary file is 0600
    }
  }
}
