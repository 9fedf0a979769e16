package dev.umbra.cli.devices;

import dev.umbra.cli.CliException;
import dev.umbra.client.http.JsonText;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.sign.Signed;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * This CLI's device identity per workspace, under {@code UMBRA_HOME/cli/devices/<workspace>/}:
 * {@code ed25519.key} and {@code p256.key} (0600, never leave the machine), {@code device.json}
 * (device id and name) and {@code pin.json} (the workspace keyset this device verified: the root,
 * version 1, and the newest version it followed to).
 */
public final class DeviceStore {
  private final Path dir;
  private final UUID workspaceId;

  public DeviceStore(Path umbraHome, UUID workspaceId) {
    this.dir = umbraHome.resolve("cli").resolve("devices").resolve(workspaceId.toString());
    this.workspaceId = workspaceId;
  }

  public Path dir() {
    return dir;
  }

  /** A device identity: its id, name and key pairs. */
  public record Device(UUID id, String name, Ed25519KeyPair signing, P256KeyPair envelope) {
    public TrustModel.DeviceKeys keys() {
      return new TrustModel.DeviceKeys(signing.publicKey(), envelope.publicKey());
    }

    @Override
    public String toString() {
      return "Device[" + id + ", " + name + "]";
    }
  }

  public Optional<Device> load() {
    Path meta = dir.resolve("device.json");
    if (!Files.isRegularFile(meta)) {
      return Optional.empty();
    }
    try {
      JsonObject j = JsonText.parseObject(Files.readString(meta, StandardCharsets.UTF_8));
      return Optional.of(
          new Device(
              UUID.fromString(j.getString("device_id")),
              j.getString("name"),
              KeyFiles.loadEd25519(dir.resolve("ed25519.key")),
              KeyFiles.loadP256(dir.resolve("p256.key"))));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + meta + ": " + e.getMessage(), e);
    }
  }

  public Device require() {
    return load()
        .orElseThrow(
            () ->
                new CliException(
                    "this CLI is not a device of the workspace yet: run `umbra device trust`"));
  }

  /** Makes a new identity (keys first, then device.json), or returns the existing one. */
  public Device loadOrCreate(String name) {
    Optional<Device> d = load();
    if (d.isPresent()) {
      return d.get();
    }
    KeyFiles.ensurePrivateDirectory(dir.getParent().getParent());
    KeyFiles.ensurePrivateDirectory(dir.getParent());
    KeyFiles.ensurePrivateDirectory(dir);
    Ed25519KeyPair ed = KeyFiles.loadOrGenerateEd25519(dir.resolve("ed25519.key"));
    P256KeyPair p = KeyFiles.loadOrGenerateP256(dir.resolve("p256.key"));
    UUID id = UUID.randomUUID();
    write(
        "device.json",
        new JsonObject()
            .put("device_id", id.toString())
            .put("workspace_id", workspaceId.toString())
            .put("name", name));
    return new Device(id, name, ed, p);
  }

  /** The pinned root (version 1) and newest keyset this device verified, if any. */
  public record Pin(Signed root, Signed current) {}

  public Optional<Pin> pin() {
    Path f = dir.resolve("pin.json");
    if (!Files.isRegularFile(f)) {
      return Optional.empty();
    }
    try {
      JsonObject j = JsonText.parseObject(Files.readString(f, StandardCharsets.UTF_8));
      return Optional.of(
          new Pin(
              Signed.fromJson(j.getJsonObject("root")),
              Signed.fromJson(j.getJsonObject("current"))));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
    }
  }

  public void savePin(Pin pin) {
    KeyFiles.ensurePrivateDirectory(dir);
    write(
        "pin.json",
        new JsonObject().put("root", pin.root().toJson()).put("current", pin.current().toJson()));
  }

  /** Forgets this device (its keys and pin), e.g. after it was revoked. */
  public void delete() {
    for (String f : new String[] {"ed25519.key", "p256.key", "device.json", "pin.json"}) {
      try {
        Files.deleteIfExists(dir.resolve(f));
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot delete " + dir.resolve(f) + ": " + e.getMessage(), e);
      }
    }
  }

  private void write(String name, JsonObject j) {
    try {
      PrivateFiles.replace(dir.resolve(name), JsonText.encodePrettily(j));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write " + dir.resolve(name) + ": " + e.getMessage(), e);
    }
  }
}
