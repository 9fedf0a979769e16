package dev.umbra.images;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An image tarball as `jib:buildTar` wrote it, unpacked: its config (user, entrypoint, environment)
 * and its layers in order. Reads both layouts a tarball may have: OCI (index.json, blobs/) and
 * `docker load`'s (manifest.json).
 */
record OciImage(Path dir, JsonObject config, List<Path> layers) {

  static OciImage unpack(Path tarball, Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    run(List.of("tar", "-C", dir.toString(), "-xf", tarball.toString()));
    if (Files.exists(dir.resolve("index.json"))) {
      JsonObject index = new JsonObject(Files.readString(dir.resolve("index.json")));
      JsonObject manifest =
          blob(dir, index.getJsonArray("manifests").getJsonObject(0).getString("digest"));
      JsonObject config = blob(dir, manifest.getJsonObject("config").getString("digest"));
      List<Path> layers = new ArrayList<>();
      for (Object l : manifest.getJsonArray("layers")) {
        layers.add(blobPath(dir, ((JsonObject) l).getString("digest")));
      }
      return new OciImage(dir, config, layers);
    }
    JsonObject manifest =
        new JsonArray(Files.readString(dir.resolve("manifest.json"))).getJsonObject(0);
    JsonObject config = new JsonObject(Files.readString(dir.resolve(manifest.getString("Config"))));
    List<Path> layers = new ArrayList<>();
    for (Object l : manifest.getJsonArray("Layers")) {
      layers.add(dir.resolve((String) l));
    }
    return new OciImage(dir, config, layers);
  }

  static Path blobPath(Path dir, String digest) {
    return dir.resolve("blobs").resolve(digest.replace(':', '/'));
  }

  static JsonObject blob(Path dir, String digest) throws IOException {
    return new JsonObject(Files.readString(blobPath(dir, digest)));
  }

  JsonObject container() {
    return config.getJsonObject("config");
  }

  List<String> entrypoint() {
    return container().getJsonArray("Entrypoint").stream().map(String::valueOf).toList();
  }

  /** The file names in a layer (tar -t). */
  static List<String> listing(Path layer) throws IOException, InterruptedException {
    return run(List.of("tar", "-tzvf", layer.toString())).lines().toList();
  }

  /** Every layer applied in order under {@code root}: the image's file system. */
  Path extract(Path root) throws IOException, InterruptedException {
    Files.createDirectories(root);
    for (Path l : layers) {
      run(List.of("tar", "-C", root.toString(), "-xzf", l.toString()));
    }
    return root;
  }

  static String run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IOException(cmd + " failed: " + out);
    }
    return out;
  }
}
