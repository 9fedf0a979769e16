package dev.umbra.client.binding;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.noise.NoisePsk;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The daemon's bindings under {@code $UMBRA_HOME/daemon/bindings/<machine-id>/}: {@code x25519.key}
 * and {@code ed25519.key} (umbra-crypto key files, 0600) and {@code binding.json}, in 0700
 * directories. Keys are made in a {@code pending-*} directory before redemption and the directory
 * is renamed once the control plane has the binding.
 */
public final class BindingStore {
  public static final String X25519_FILE = "x25519.key";
  public static final String ED25519_FILE = "ed25519.key";
  public static final String BINDING_FILE = "binding.json";
  public static final String RELAY_PSK_FILE = "relay-psk.key";

  private final Path root;

  public BindingStore(Path umbraHome) {
    this.root = umbraHome.resolve("daemon").resolve("bindings");
  }

  public Path root() {
    return root;
  }

  /** Fresh identity keys for one new binding, saved before anything leaves the machine. */
  public record Pending(Path dir, X25519KeyPair x25519, Ed25519KeyPair ed25519, UUID installId) {
    @Override
    public String toString() {
      return "Pending[" + dir + "]";
    }
  }

  public Pending prepare() {
    KeyFiles.ensurePrivateDirectory(root.getParent().getParent());
    KeyFiles.ensurePrivateDirectory(root.getParent());
    KeyFiles.ensurePrivateDirectory(root);
    UUID install = UUID.randomUUID();
    Path dir = KeyFiles.ensurePrivateDirectory(root.resolve("pending-" + install));
    X25519KeyPair x = X25519KeyPair.generate();
    Ed25519KeyPair ed = Ed25519KeyPair.generate();
    KeyFiles.save(dir.resolve(X25519_FILE), x);
    KeyFiles.save(dir.resolve(ED25519_FILE), ed);
    return new Pending(dir, x, ed, install);
  }

  /** Records the binding and moves its keys to their final place. */
  public Path commit(Pending p, Binding b) {
    try {
      PrivateFiles.createNew(p.dir().resolve(BINDING_FILE), b.toJson().encodePrettily());
      Path target = root.resolve(b.machineId().toString());
      Files.move(p.dir(), target, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot store the binding under " + root + ": " + e.getMessage(), e);
    }
  }

  /**
   * Rewrites the record of a committed binding (same machine id; its keys stay), e.g. to follow its
   * control plane to another URL.
   */
  public void update(Binding b) {
    Path f = root.resolve(b.machineId().toString()).resolve(BINDING_FILE);
    if (!Files.isRegularFile(f)) {
      throw new IllegalStateException("no binding for machine " + b.machineId() + " under " + root);
    }
    try {
      PrivateFiles.replace(f, b.toJson().encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot update the binding " + f + ": " + e.getMessage(), e);
    }
  }

  /** Deletes a pending directory whose redemption failed (the keys were never used). */
  public void discard(Pending p) {
    try (Stream<Path> s = Files.list(p.dir())) {
      for (Path f : s.toList()) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(p.dir());
    } catch (IOException e) {
      // a leftover pending directory holds unused keys only; the next run can remove it
    }
  }

  public List<Binding> list() {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    List<Binding> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(root)) {
      for (Path dir :
          s.filter(d -> !d.getFileName().toString().startsWith("pending-"))
              .sorted(Comparator.naturalOrder())
              .toList()) {
        Path f = dir.resolve(BINDING_FILE);
        if (Files.isRegularFile(f)) {
          out.add(Binding.fromJson(new JsonObject(Files.readString(f, StandardCharsets.UTF_8))));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read bindings under " + root + ": " + e.getMessage(), e);
    }
    return out;
  }

  public Ed25519KeyPair signingKey(Binding b) {
    return KeyFiles.loadEd25519(root.resolve(b.machineId().toString()).resolve(ED25519_FILE));
  }

  public X25519KeyPair agreementKey(Binding b) {
    return KeyFiles.loadX25519(root.resolve(b.machineId().toString()).resolve(X25519_FILE));
  }

  /**
   * Keeps the relay's Noise PSK of a workspace that required a PSK at pairing (0600, next to the
   * binding's keys), so `umbra daemon run` needs no UMBRA_PSK for it.
   */
  public void saveRelayPsk(Binding b, NoisePsk psk) {
    KeyFiles.save(root.resolve(b.machineId().toString()).resolve(RELAY_PSK_FILE), psk);
  }

  /** The binding's relay PSK, when pairing stored one. */
  public java.util.Optional<NoisePsk> relayPsk(Binding b) {
    Path f = root.resolve(b.machineId().toString()).resolve(RELAY_PSK_FILE);
    return Files.exists(f, LinkOption.NOFOLLOW_LINKS)
        ? Optional.of(KeyFiles.loadNoisePsk(f))
        : Optional.empty();
  }
}
