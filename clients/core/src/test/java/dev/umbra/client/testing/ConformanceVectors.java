package dev.umbra.client.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The published conformance vectors (shared/crypto/conformance/, README there) that clients/core
 * replays with its own code.
 */
public final class ConformanceVectors {
  private ConformanceVectors() {}

  /** The {@code vectors} of {@code file} (e.g. {@code "relay-client-auth.json"}). */
  public static JsonArray of(String file) throws IOException {
    Path path =
        Path.of(System.getProperty("basedir", "."), "../../shared/crypto/conformance", file);
    return new JsonObject(Files.readString(path)).getJsonArray("vectors");
  }
}
