package dev.umbra.daemon.agent;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The agent runtimes this machine's owner configured (docs/agents.md, "Runtimes"): {@code
 * UMBRA_HOME/agent-runtimes.json}, {@code {"runtimes": {"<id>": {"argv": ["cmd", "arg"...], "cwd":
 * "/dir"}}}}. A client starts a runtime by its id only; the command line comes from this file and
 * never from the channel. The file is read at every start (an edit applies to the next session),
 * and refused when group or others may write it or it is not a regular file (fail closed: no
 * runtime).
 */
public final class AgentRuntimes {
  public static final String FILE = "agent-runtimes.json";

  /** A runtime id: a short lower-case name. */
  public static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,31}");

  static final int MAX_FILE_BYTES = 64 * 1024;
  static final int MAX_RUNTIMES = 64;
  static final int MAX_ARGS = 64;

  /** One configured runtime: its id, its command line and working directory ("" = UMBRA_HOME). */
  public record Runtime(String id, List<String> argv, String cwd) {}

  private final Path file;

  public AgentRuntimes(Path umbraHome) {
    this.file = umbraHome.resolve(FILE);
  }

  /** The runtime {@code id} as the file says now; empty when not configured. */
  public Optional<Runtime> find(String id) throws IOException {
    if (!ID.matcher(id).matches()) {
      return Optional.empty();
    }
    return Optional.ofNullable(read().get(id));
  }

  /** The configured runtimes' ids. */
  public List<String> ids() throws IOException {
    return List.copyOf(read().keySet());
  }

  private java.util.Map<String, Runtime> read() throws IOException {
    java.util.Map<String, Runtime> out = new java.util.TreeMap<>();
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return out;
    }
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(file + " is not a regular file");
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
    if (perms.contains(PosixFilePermission.GROUP_WRITE)
        || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new IOException(file + " may be written by group or others; chmod 600 it");
    }
    if (Files.size(file) > MAX_FILE_BYTES) {
      throw new IOException(file + " is over " + MAX_FILE_BYTES + " bytes");
    }
    JsonObject runtimes;
    try {
      runtimes = new JsonObject(Files.readString(file)).getJsonObject("runtimes");
    } catch (DecodeException | ClassCastException e) {
      throw new IOException(file + " is not {\"runtimes\": {...}}");
    }
    if (runtimes == null || runtimes.size() > MAX_RUNTIMES) {
      throw new IOException(file + " needs \"runtimes\" with at most " + MAX_RUNTIMES);
    }
    for (String id : runtimes.fieldNames()) {
      out.put(id, runtime(id, runtimes.getValue(id)));
    }
    return out;
  }

  private Runtime runtime(String id, Object value) throws IOException {
    if (!ID.matcher(id).matches()
        || !(value instanceof JsonObject r)
        || !(r.getValue("argv") instanceof JsonArray a)
        || a.isEmpty()
        || a.size() > MAX_ARGS) {
      throw new IOException(
          file + ": runtime '" + id + "' needs an id like " + ID + " and argv (1 to 64 strings)");
    }
    List<String> argv = new ArrayList<>();
    for (Object o : a) {
      if (!(o instanceof String s) || s.isEmpty()) {
        throw new IOException(file + ": runtime '" + id + "' argv must be non-empty strings");
      }
      argv.add(s);
    }
    Object cwd = r.getValue("cwd");
    if (cwd != null && !(cwd instanceof String)) {
      throw new IOException(file + ": runtime '" + id + "' cwd must be a string");
    }
    return new Runtime(id, List.copyOf(argv), cwd == null ? "" : (String) cwd);
  }
}
