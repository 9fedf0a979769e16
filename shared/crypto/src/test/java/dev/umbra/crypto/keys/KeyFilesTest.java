package dev.umbra.crypto.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.KeyFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFilesTest {
  @TempDir Path tmp;

  @Test
  void savesKeysAs0600FilesIn0700DirectoriesAndLoadsThemBack() throws Exception {
    Path home = tmp.resolve("umbra");
    Path file = home.resolve("identity").resolve("x25519.key");
    X25519KeyPair pair = X25519KeyPair.generate();
    KeyFiles.save(file, pair);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
        .isEqualTo("rwx------");
    assertThat(KeyFiles.loadX25519(file)).isEqualTo(pair);

    Ed25519KeyPair ed = Ed25519KeyPair.generate();
    KeyFiles.save(home.resolve("ed.key"), ed);
    assertThat(KeyFiles.loadEd25519(home.resolve("ed.key"))).isEqualTo(ed);
    P256KeyPair p = P256KeyPair.generate();
    KeyFiles.save(home.resolve("p256.key"), p);
    assertThat(KeyFiles.loadP256(home.resolve("p256.key"))).isEqualTo(p);
  }

  @Test
  void keepsANoisePskAsA0600FileAndRefusesToReadItAsAnotherType() throws Exception {
    Path file = tmp.resolve("binding").resolve("relay-psk.key");
    byte[] raw = new byte[32];
    new java.security.SecureRandom().nextBytes(raw);
    dev.umbra.crypto.noise.NoisePsk psk = dev.umbra.crypto.noise.NoisePsk.fromBytes(raw);
    KeyFiles.save(file, psk);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(KeyFiles.loadNoisePsk(file)).isEqualTo(psk);
    assertThat(psk.toString()).doesNotContain(java.util.HexFormat.of().formatHex(raw));
    assertThatThrownBy(() -> KeyFiles.loadX25519(file))
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("noise-psk");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> KeyFiles.loadNoisePsk(file))
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("chmod 600");
    assertThatThrownBy(() -> dev.umbra.crypto.noise.NoisePsk.fromBytes(new byte[31]))
        .isInstanceOf(dev.umbra.crypto.MalformedInputException.class);
  }

  @Test
  void refusesToLoadAPrivateKeyFileThatGroupOrOthersCanRead() throws Exception {
    Path file = tmp.resolve("keys").resolve("id.key");
    KeyFiles.save(file, Ed25519KeyPair.generate());
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> KeyFiles.loadEd25519(file))
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("rw-r--r--")
        .hasMessageContaining("chmod 600 " + file);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw----r--"));
    assertThatThrownBy(() -> KeyFiles.loadEd25519(file)).isInstanceOf(KeyFileException.class);
  }

  @Test
  void refusesSymbolicLinksAndMissingFiles() throws Exception {
    Path file = tmp.resolve("k").resolve("id.key");
    KeyFiles.save(file, X25519KeyPair.generate());
    Path link = tmp.resolve("k").resolve("link.key");
    Files.createSymbolicLink(link, file);
    assertThatThrownBy(() -> KeyFiles.loadX25519(link))
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("symbolic links");
    assertThatThrownBy(() -> KeyFiles.loadX25519(tmp.resolve("k").resolve("none.key")))
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void refusesToOverwriteAnExistingKeyFile() {
    Path file = tmp.resolve("k").resolve("id.key");
    KeyFiles.save(file, X25519KeyPair.generate());
    assertThatThrownBy(() -> KeyFiles.save(file, X25519KeyPair.generate()))
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("overwrite");
  }

  @Test
  void refusesAWorldReadableKeyDirectory() throws Exception {
    Path dir = tmp.resolve("open");
    Files.createDirectory(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThatThrownBy(() -> KeyFiles.save(dir.resolve("id.key"), X25519KeyPair.generate()))
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("chmod 700 " + dir);
  }

  @Test
  void createsEveryDirectoryFromTheBaseDownWithMode0700() throws Exception {
    Path home = tmp.resolve("home");
    Path pg = home.resolve("dev").resolve("pg");
    assertThat(KeyFiles.ensurePrivateDirectories(home, pg)).isEqualTo(pg);
    for (Path d : new Path[] {home, home.resolve("dev"), pg}) {
      assertThat(Files.getPosixFilePermissions(d))
          .as(d.toString())
          .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    }
  }

  @Test
  void refusesAnOpenDirectoryOnTheWayDownInsteadOfTighteningIt() throws Exception {
    Path home = tmp.resolve("home");
    Path dev = home.resolve("dev");
    KeyFiles.ensurePrivateDirectory(home);
    Files.createDirectory(dev);
    Files.setPosixFilePermissions(dev, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThatThrownBy(() -> KeyFiles.ensurePrivateDirectories(home, dev.resolve("pg")))
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("chmod 700 " + dev);
    assertThat(Files.exists(dev.resolve("pg"))).isFalse();
    assertThat(Files.getPosixFilePermissions(dev))
        .isEqualTo(PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  @Test
  void refusesADirectoryOutsideTheBase() {
    assertThatThrownBy(
            () -> KeyFiles.ensurePrivateDirectories(tmp.resolve("home"), tmp.resolve("elsewhere")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> KeyFiles.ensurePrivateDirectories(tmp.resolve("home"), tmp.resolve("home/../x")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void refusesAKeyFileOfAnotherTypeOrWithMismatchedPublicKey() throws Exception {
    Path file = tmp.resolve("k").resolve("id.key");
    KeyFiles.save(file, X25519KeyPair.generate());
    assertThatThrownBy(() -> KeyFiles.loadEd25519(file))
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("expected ed25519");
    String text = Files.readString(file);
    String other = X25519KeyPair.generate().publicKey().toHex();
    Files.writeString(
        file, text.replaceAll("\"public_key\":\"[0-9a-f]+\"", "\"public_key\":\"" + other + "\""));
    assertThatThrownBy(() -> KeyFiles.loadX25519(file))
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("does not match");
  }

  @Test
  void loadOrGenerateKeepsTheFirstKey() {
    Path file = tmp.resolve("h").resolve("x.key");
    X25519KeyPair first = KeyFiles.loadOrGenerateX25519(file);
    assertThat(KeyFiles.loadOrGenerateX25519(file)).isEqualTo(first);
  }

  @Test
  void processesRacingToGenerateOneKeyFileAllGetTheKeyThatWasWritten() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      for (int round = 0; round < 20; round++) {
        Path file = tmp.resolve("race-" + round).resolve("relay-x25519.key");
        CyclicBarrier start = new CyclicBarrier(8);
        List<Future<X25519KeyPair>> all = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          all.add(
              pool.submit(
                  () -> {
                    start.await(10, TimeUnit.SECONDS);
                    return KeyFiles.loadOrGenerateX25519(file);
                  }));
        }
        List<X25519KeyPair> got = new ArrayList<>();
        for (Future<X25519KeyPair> f : all) {
          got.add(f.get(10, TimeUnit.SECONDS));
        }
        assertThat(got).containsOnly(KeyFiles.loadX25519(file));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void resolvesUmbraHomeFromEnvironmentOrDefault() {
    assertThat(KeyFiles.umbraHome(Map.of("UMBRA_HOME", "/srv/umbra")))
        .isEqualTo(Path.of("/srv/umbra"));
    assertThat(KeyFiles.umbraHome(Map.of()))
        .isEqualTo(Path.of(System.getProperty("user.home"), ".umbra"));
  }
}
