package dev.umbra.daemon.workflow;

import dev.umbra.client.workflow.SignedWorkflow;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowRefusal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two-way mirroring of a binding's workflows to repository files on the machine (docs/agents.md,
 * "Mirroring to repository files"). The repositories are configured on the daemon only ({@code
 * UMBRA_HOME/workflow-repos.json}, 0600); each holds definitions in {@code
 * .umbra/workflows/<name>.yaml}. One sync, per repository and name, against what the daemon saw at
 * its last sync ({@code UMBRA_HOME/workflow-sync/<machine id>/state.json}, 0600 in 0700):
 *
 * <ul>
 *   <li>a signed definition that verifies against the pinned trust, newer than the last sync, is
 *       written to the file when the file is unchanged since then;
 *   <li>a file edited since then is proposed to the platform as a revision (never runnable: a
 *       trusted device must sign it);
 *   <li>both changed: a conflict, reported to the platform and in the daemon's log; nothing is
 *       overwritten on either side;
 *   <li>a definition that does not verify is never written: the refusal is logged and reported to
 *       the control plane, which audits it ({@code workflow.refused}), once per name, version and
 *       reason.
 * </ul>
 */
public final class WorkflowMirror {
  public static final String CONFIG = "workflow-repos.json";
  public static final String STATE_DIRECTORY = "workflow-sync";
  static final int MAX_REPOS = 16;
  static final int MAX_FILES = 200;
  static final long MAX_CONFIG_BYTES = 64 * 1024;
  static final int MAX_TEXT = 65536;

  /** The state's member of refusals reported, by name: {@code <version>:<reason>}. */
  static final String REFUSALS = "refusals";

  private static final Logger log = LoggerFactory.getLogger(WorkflowMirror.class);

  /** The control plane as the mirror uses it (requests signed with the binding key). */
  public interface Platform {
    /** The workspace's definitions (not deleted), by name. */
    Map<String, SignedWorkflow.Served> list() throws Exception;

    /** Proposes {@code yaml} as a revision of {@code name} edited from {@code base}. */
    void propose(String name, long base, boolean conflict, String yaml) throws Exception;

    /** Reports that version {@code version} of {@code name} was refused (audited there). */
    void refused(String name, long version, WorkflowRefusal reason) throws Exception;
  }

  /** Why a served definition may not be written to a file; empty when it verifies. */
  @FunctionalInterface
  public interface Verify {
    Optional<WorkflowRefusal> refusal(String name, SignedWorkflow.Served served);
  }

  /** What one sync did, by {@code <repo>:<name>}. */
  public record Report(
      List<String> written, List<String> proposed, List<String> conflicts, List<String> refused) {}

  private final Path home;
  private final Path stateFile;
  private final Platform platform;
  private final Verify verify;

  public WorkflowMirror(Path home, String machineId, Platform platform, Verify verify) {
    this.home = home;
    this.stateFile = home.resolve(STATE_DIRECTORY).resolve(machineId).resolve("state.json");
    this.platform = platform;
    this.verify = verify;
  }

  /** The repositories configured, or none (no file, or a file that may not be trusted). */
  List<Path> repos() {
    Path file = home.resolve(CONFIG);
    if (!Files.exists(file)) {
      return List.of();
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (perms.contains(PosixFilePermission.GROUP_WRITE)
          || perms.contains(PosixFilePermission.OTHERS_WRITE)
          || Files.size(file) > MAX_CONFIG_BYTES) {
        log.warn("{} is writable by others or too large: no workflow is mirrored", CONFIG);
        return List.of();
      }
      JsonArray a = new JsonObject(Files.readString(file)).getJsonArray("repos");
      List<Path> out = new ArrayList<>();
      for (int i = 0; a != null && i < a.size() && i < MAX_REPOS; i++) {
        Path p = Path.of(a.getString(i));
        if (p.isAbsolute()) {
          out.add(p.normalize());
        }
      }
      return out;
    } catch (IOException | RuntimeException e) {
      log.warn("{} cannot be read: no workflow is mirrored", CONFIG);
      return List.of();
    }
  }

  /** Blocking: one sync of every configured repository. */
  public Report syncOnce() throws IOException {
    Report r =
        new Report(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    List<Path> repos = repos();
    if (repos.isEmpty()) {
      return r;
    }
    Map<String, SignedWorkflow.Served> served;
    try {
      served = platform.list();
    } catch (Exception e) {
      log.warn("workflow mirror: the control plane could not be asked: {}", e.getMessage());
      return r;
    }
    JsonObject state = readState();
    Map<String, SignedWorkflow.Served> trusted = new TreeMap<>();
    for (Map.Entry<String, SignedWorkflow.Served> e : served.entrySet()) {
      Optional<WorkflowRefusal> refusal = verify.refusal(e.getKey(), e.getValue());
      if (refusal.isEmpty()) {
        trusted.put(e.getKey(), e.getValue());
      } else {
        r.refused().add(e.getKey());
        refused(e.getKey(), e.getValue().version(), refusal.get(), state);
      }
    }
    for (Path repo : repos) {
      Path dir = repo.resolve(".umbra").resolve("workflows");
      Set<String> names = new TreeSet<>(trusted.keySet());
      names.addAll(files(dir));
      for (String name : names) {
        sync(repo, dir, name, trusted.get(name), state, r);
      }
    }
    KeyFiles.ensurePrivateDirectories(home, stateFile.getParent());
    PrivateFiles.replace(stateFile, state.encodePrettily());
    return r;
  }

  /**
   * Logs a refused definition and reports it to the control plane once per name, version and reason
   * (remembered in the state under {@link #REFUSALS}); a report not taken is tried again at the
   * next sync.
   */
  private void refused(String name, long version, WorkflowRefusal reason, JsonObject state) {
    log.atWarn()
        .addKeyValue("workflow", name)
        .log("workflow mirror: definition refused, not written to any file: {}", reason.code());
    JsonObject reported = state.getValue(REFUSALS) instanceof JsonObject o ? o : new JsonObject();
    String mark = version + ":" + reason.code();
    if (mark.equals(reported.getString(name))) {
      return;
    }
    try {
      platform.refused(name, version, reason);
      state.put(REFUSALS, reported.put(name, mark));
    } catch (Exception e) {
      log.atWarn()
          .addKeyValue("workflow", name)
          .log("workflow mirror: refusal not reported: {}", e.getMessage());
    }
  }

  private void sync(
      Path repo, Path dir, String name, SignedWorkflow.Served p, JsonObject state, Report r) {
    String key = repo + ":" + name;
    Path file = dir.resolve(name + ".yaml");
    JsonObject s = state.getJsonObject(key);
    String f;
    try {
      f = Files.exists(file) ? read(file) : null;
    } catch (IOException e) {
      log.atWarn().addKeyValue("workflow", name).log("workflow mirror: file unreadable: {}", file);
      return;
    }
    if (f != null && p != null && f.equals(p.yaml())) {
      state.put(key, new JsonObject().put("sha256", sha(f)).put("version", p.version()));
      return;
    }
    boolean fileChanged = f != null && (s == null || !sha(f).equals(s.getString("sha256")));
    boolean platformChanged = p != null && (s == null || p.version() != s.getLong("version", 0L));
    if (fileChanged) {
      if (!definesItself(f, name)) {
        log.atWarn()
            .addKeyValue("workflow", name)
            .log("workflow mirror: {} is not a definition of {}: not proposed", file, name);
        return;
      }
      boolean conflict = platformChanged;
      long base = p != null ? p.version() : s == null ? 0 : s.getLong("version", 0L);
      String mark = sha(f) + (conflict ? ":conflict:" : ":") + base;
      if (s != null && mark.equals(s.getString("proposed"))) {
        return; // told the platform already
      }
      try {
        platform.propose(name, base, conflict, f);
      } catch (Exception e) {
        log.atWarn()
            .addKeyValue("workflow", name)
            .log("workflow mirror: proposal not taken: {}", e.getMessage());
        return;
      }
      JsonObject next = s == null ? new JsonObject().put("version", 0L) : s.copy();
      state.put(key, next.put("proposed", mark));
      if (conflict) {
        r.conflicts().add(key);
        log.atWarn()
            .addKeyValue("workflow", name)
            .addKeyValue("repo", repo.toString())
            .log(
                "workflow mirror: conflict: {} changed in the repository and on the platform"
                    + " (v{}) since the last sync; neither was overwritten",
                name,
                p.version());
      } else {
        r.proposed().add(key);
      }
    } else if (platformChanged) {
      try {
        Files.createDirectories(dir); // the repository's own folder, outside UMBRA_HOME
        Path tmp = dir.resolve("." + name + ".yaml.umbra-tmp");
        Files.writeString(tmp, p.yaml(), StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        log.atWarn().addKeyValue("workflow", name).log("workflow mirror: cannot write {}", file);
        return;
      }
      state.put(key, new JsonObject().put("sha256", sha(p.yaml())).put("version", p.version()));
      r.written().add(key);
    }
  }

  private static boolean definesItself(String yaml, String name) {
    try {
      return WorkflowDefinition.parse(yaml).name().equals(name);
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** The names of the definition files in {@code dir} (at most {@link #MAX_FILES}). */
  private static List<String> files(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml"))
          .map(n -> n.substring(0, n.length() - 5))
          .filter(n -> WorkflowDefinition.NAME.matcher(n).matches())
          .sorted()
          .limit(MAX_FILES)
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static String read(Path file) throws IOException {
    if (Files.size(file) > MAX_TEXT * 4L) {
      throw new IOException("too large");
    }
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  private JsonObject readState() {
    try {
      return Files.exists(stateFile)
          ? new JsonObject(Files.readString(stateFile))
          : new JsonObject();
    } catch (IOException | RuntimeException e) {
      // an unreadable state is a first sync: every difference is a conflict, nothing is overwritten
      return new JsonObject();
    }
  }

  static String sha(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
