package dev.umbra.crypto.keys;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.KeyFileException;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.noise.NoisePsk;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Identity key files under {@code UMBRA_HOME}: one canonical JSON object per file, {@code
 * {"format":"umbra-key/v1","private_key":hex,"public_key":hex,"type":"x25519|ed25519|p256|noise-psk"}}
 * (a Noise PSK has an empty {@code public_key}), written as 0600 files inside 0700 directories.
 * Loading refuses a file that group or others can access, and says how to fix it. POSIX permissions
 * are required (fail closed elsewhere).
 */
public final class KeyFiles {
  private static final Set<PosixFilePermission> GROUP_OTHER =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);
  private static final Set<PosixFilePermission> DIR_MODE =
      PosixFilePermissions.fromString("rwx------");

  private KeyFiles() {}

  /** {@code $UMBRA_HOME} from {@code env}, or {@code ~/.umbra} when unset or blank. */
  public static Path umbraHome(Map<String, String> env) {
    String home = env.get(CryptoConstants.UMBRA_HOME_ENV);
    if (home != null && !home.isBlank()) {
      return Path.of(home);
    }
    return Path.of(System.getProperty("user.home"), CryptoConstants.UMBRA_HOME_DEFAULT_DIR);
  }

  /**
   * Ensures {@code base} and every directory from it down to {@code dir} (both included) with
   * {@link #ensurePrivateDirectory}, so a private directory never sits inside an open one that
   * Umbra made (e.g. {@code UMBRA_HOME/dev/pg} below {@code UMBRA_HOME/dev}). This is the one way
   * every part creates directories under {@code UMBRA_HOME}.
   *
   * @throws IllegalArgumentException when {@code dir} is not {@code base} or below it
   */
  public static Path ensurePrivateDirectories(Path base, Path dir) {
    Path b = base.toAbsolutePath().normalize();
    Path d = dir.toAbsolutePath().normalize();
    if (!d.startsWith(b)) {
      throw new IllegalArgumentException(dir + " is not below " + base);
    }
    Path at = ensurePrivateDirectory(b);
    for (Path name : b.relativize(d)) {
      if (!name.toString().isEmpty()) {
        at = ensurePrivateDirectory(at.resolve(name));
      }
    }
    return dir;
  }

  /**
   * Creates {@code dir} (and missing parents) with mode 0700, or checks an existing one: a
   * directory that group or others can access is refused with a {@code chmod 700} hint (Umbra does
   * not tighten it itself: the directory may be shared on purpose, e.g. a home directory given as
   * {@code UMBRA_HOME}, and the operator decides).
   */
  public static Path ensurePrivateDirectory(Path dir) {
    try {
      if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
        Files.setPosixFilePermissions(dir, DIR_MODE); // umask may have narrowed or kept bits
        return dir;
      }
      if (!Files.isDirectory(dir)) {
        throw new KeyFileException(dir + " exists but is not a directory");
      }
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
      if (!noGroupOrOtherAccess(perms)) {
        throw new KeyFileException(
            "directory "
                + dir
                + " has mode "
                + PosixFilePermissions.toString(perms)
                + "; group and others must have no access. Fix it with: chmod 700 "
                + dir);
      }
      return dir;
    } catch (UnsupportedOperationException e) {
      throw new KeyFileException(
          "the file system of " + dir + " has no POSIX permissions; refusing to keep keys there",
          e);
    } catch (IOException e) {
      throw new KeyFileException("cannot create directory " + dir + ": " + e.getMessage(), e);
    }
  }

  public static void save(Path file, X25519KeyPair pair) {
    write(file, KeyType.X25519, pair.privateKey().exportPrivateBytes(), pair.publicKey().toBytes());
  }

  public static void save(Path file, Ed25519KeyPair pair) {
    write(
        file, KeyType.ED25519, pair.privateKey().exportPrivateBytes(), pair.publicKey().toBytes());
  }

  public static void save(Path file, P256KeyPair pair) {
    write(file, KeyType.P256, pair.privateKey().exportPrivateBytes(), pair.publicKey().toBytes());
  }

  /** A symmetric Noise PSK, with the same 0600-in-0700 rules as private keys (no public part). */
  public static void save(Path file, NoisePsk psk) {
    write(file, KeyType.NOISE_PSK, psk.exportBytes(), new byte[0]);
  }

  public static NoisePsk loadNoisePsk(Path file) {
    return load(file, KeyType.NOISE_PSK, NoisePsk::fromBytes);
  }

  public static X25519KeyPair loadX25519(Path file) {
    return load(
        file,
        KeyType.X25519,
        priv -> X25519KeyPair.fromPrivateKey(X25519PrivateKey.fromBytes(priv)));
  }

  public static Ed25519KeyPair loadEd25519(Path file) {
    return load(
        file,
        KeyType.ED25519,
        priv -> Ed25519KeyPair.fromPrivateKey(Ed25519PrivateKey.fromBytes(priv)));
  }

  public static P256KeyPair loadP256(Path file) {
    return load(
        file, KeyType.P256, priv -> P256KeyPair.fromPrivateKey(P256PrivateKey.fromBytes(priv)));
  }

  public static X25519KeyPair loadOrGenerateX25519(Path file) {
    return loadOrGenerate(file, KeyFiles::loadX25519, X25519KeyPair::generate, KeyFiles::save);
  }

  public static Ed25519KeyPair loadOrGenerateEd25519(Path file) {
    return loadOrGenerate(file, KeyFiles::loadEd25519, Ed25519KeyPair::generate, KeyFiles::save);
  }

  public static P256KeyPair loadOrGenerateP256(Path file) {
    return loadOrGenerate(file, KeyFiles::loadP256, P256KeyPair::generate, KeyFiles::save);
  }

  private interface Saver<T> {
    void save(Path file, T pair);
  }

  private static <T> T loadOrGenerate(
      Path file, Function<Path, T> load, Supplier<T> generate, Saver<T> save) {
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return load.apply(file);
    }
    T pair = generate.get();
    try {
      save.save(file, pair);
      return pair;
    } catch (KeyFileException e) {
      if (e.getCause() instanceof FileAlreadyExistsException) {
        // Another process (two `umbra` commands on a fresh home) wrote the file between our check
        // and our write; its file is whole (written aside, then linked): use its key, so both
        // agree.
        return load.apply(file);
      }
      throw e;
    }
  }

  private static <T> T load(Path file, KeyType type, Function<byte[], T> fromPrivateBytes) {
    byte[] priv = read(file, type);
    try {
      return fromPrivateBytes.apply(priv);
    } catch (CryptoException e) {
      throw new KeyFileException(
          "key file " + file + " holds an invalid key: " + e.getMessage(), e);
    } finally {
      Arrays.fill(priv, (byte) 0);
    }
  }

  private static void write(Path file, KeyType type, byte[] privateKey, byte[] publicKey) {
    Path dir = file.toAbsolutePath().getParent();
    ensurePrivateDirectory(dir);
    Map<String, Object> content = new LinkedHashMap<>();
    content.put("format", CryptoConstants.KEY_FILE_FORMAT);
    content.put("type", type.fileName());
    content.put("public_key", Bytes.hex(publicKey));
    content.put("private_key", Bytes.hex(privateKey));
    Arrays.fill(privateKey, (byte) 0);
    byte[] bytes = CanonicalJson.encode(content);
    try {
      PrivateFiles.createNew(file, bytes);
    } catch (FileAlreadyExistsException e) {
      throw new KeyFileException("refusing to overwrite existing key file " + file, e);
    } catch (IOException e) {
      throw new KeyFileException("cannot write key file " + file + ": " + e.getMessage(), e);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  private static byte[] read(Path file, KeyType expected) {
    byte[] bytes = null;
    try {
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new NoSuchFileException(file.toString());
      }
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new KeyFileException(
            "key file " + file + " is not a regular file (symbolic links are refused)");
      }
      Set<PosixFilePermission> perms =
          Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
      if (!noGroupOrOtherAccess(perms)) {
        throw new KeyFileException(
            "private key file "
                + file
                + " has mode "
                + PosixFilePermissions.toString(perms)
                + " and can be accessed by group or others; refusing to load it. Fix it with: chmod 600 "
                + file);
      }
      bytes = Files.readAllBytes(file);
      Object parsed = CanonicalJson.parse(new String(bytes, StandardCharsets.UTF_8));
      if (!(parsed instanceof Map<?, ?> map)) {
        throw new KeyFileException("key file " + file + " is not a JSON object");
      }
      if (!CryptoConstants.KEY_FILE_FORMAT.equals(map.get("format"))) {
        throw new KeyFileException(
            "key file "
                + file
                + " has unknown format "
                + map.get("format")
                + " (expected "
                + CryptoConstants.KEY_FILE_FORMAT
                + ")");
      }
      KeyType type = KeyType.fromFileName(String.valueOf(map.get("type")));
      if (type != expected) {
        throw new KeyFileException(
            "key file "
                + file
                + " holds a "
                + type.fileName()
                + " key, expected "
                + expected.fileName());
      }
      byte[] priv = Bytes.unhex(String.valueOf(map.get("private_key")));
      String pubHex = String.valueOf(map.get("public_key"));
      return verifyPublic(file, type, priv, pubHex);
    } catch (NoSuchFileException e) {
      throw new KeyFileException("key file " + file + " does not exist", e);
    } catch (UnsupportedOperationException e) {
      throw new KeyFileException(
          "the file system of " + file + " has no POSIX permissions; refusing to load keys from it",
          e);
    } catch (IOException e) {
      throw new KeyFileException("cannot read key file " + file + ": " + e.getMessage(), e);
    } catch (KeyFileException e) {
      throw e;
    } catch (CryptoException e) {
      throw new KeyFileException("key file " + file + " is malformed: " + e.getMessage(), e);
    } finally {
      if (bytes != null) {
        Arrays.fill(bytes, (byte) 0);
      }
    }
  }

  private static byte[] verifyPublic(Path file, KeyType type, byte[] priv, String pubHex) {
    String derived =
        switch (type) {
          case X25519 -> X25519PrivateKey.fromBytes(priv).publicKey().toHex();
          case ED25519 -> Ed25519PrivateKey.fromBytes(priv).publicKey().toHex();
          case P256 -> P256PrivateKey.fromBytes(priv).publicKey().toHex();
          case NOISE_PSK -> ""; // symmetric: no public part, and the file must not claim one
        };
    if (!derived.equals(pubHex)) {
      Arrays.fill(priv, (byte) 0);
      throw new KeyFileException("key file " + file + ": public_key does not match private_key");
    }
    return priv;
  }

  private static boolean noGroupOrOtherAccess(Set<PosixFilePermission> perms) {
    return Collections.disjoint(perms, GROUP_OTHER);
  }
}
