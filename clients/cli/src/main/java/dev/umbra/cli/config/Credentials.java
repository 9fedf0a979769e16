package dev.umbra.cli.config;

import dev.umbra.cli.CliException;
import dev.umbra.client.http.JsonText;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/**
 * The CLI's login: {@code $UMBRA_HOME/cli/credentials.json} (0600 in a 0700 directory) holding the
 * control-plane URL, the API token and the current workspace. Loading refuses a file others can
 * read.
 */
public final class Credentials {
  private final Path file;

  public Credentials(Path home) {
    this.file = home.resolve("cli").resolve("credentials.json");
  }

  public Path file() {
    return file;
  }

  /** A saved login; {@link #toString()} never shows the token. */
  public record Saved(
      String controlPlaneUrl, String apiToken, String workspaceId, String workspaceName) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("control_plane_url", controlPlaneUrl)
          .put("api_token", apiToken)
          .put("workspace_id", workspaceId)
          .put("workspace_name", workspaceName);
    }

    public Saved withWorkspace(String id, String name) {
      return new Saved(controlPlaneUrl, apiToken, id, name);
    }

    @Override
    public String toString() {
      return "Credentials["
          + controlPlaneUrl
          + ", workspace "
          + workspaceName
          + ", token redacted]";
    }
  }

  public Optional<Saved> load() {
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    try {
      Set<PosixFilePermission> perms =
          Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
      for (PosixFilePermission p : perms) {
        if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
          throw new CliException(
              file
                  + " can be read by others (mode "
                  + PosixFilePermissions.toString(perms)
                  + "); fix it with: chmod 600 "
                  + file);
        }
      }
      JsonObject j = JsonText.parseObject(Files.readString(file, StandardCharsets.UTF_8));
      return Optional.of(
          new Saved(
              j.getString("control_plane_url"),
              j.getString("api_token"),
              j.getString("workspace_id"),
              j.getString("workspace_name")));
    } catch (IOException | RuntimeException e) {
      if (e instanceof CliException c) {
        throw c;
      }
      throw new CliException("cannot read " + file + ": " + e.getMessage());
    }
  }

  public Saved require() {
    return load()
        .orElseThrow(
            () -> new CliException("not logged in: run `umbra login <control-plane-url>` first"));
  }

  public void save(Saved s) {
    try {
      KeyFiles.ensurePrivateDirectory(file.getParent().getParent());
      KeyFiles.ensurePrivateDirectory(file.getParent());
      PrivateFiles.replace(file, JsonText.encodePrettily(s.toJson()));
    } catch (IOException e) {
      throw new CliException("cannot write " + file + ": " + e.getMessage());
    }
  }
}
