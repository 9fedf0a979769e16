package dev.umbra.launcher;

import dev.umbra.cli.UmbraCli;
import dev.umbra.cli.config.Credentials;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.messaging.AgentIdentity;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code umbra dev} does for a newcomer once the services are up, through the real CLI against
 * the real services: bootstrap the deployment and log the CLI in to workspace {@code dev}, pair
 * this machine as {@code local} (once), and run its daemon.
 */
final class DevSetup {
  static final String WORKSPACE = "dev";
  static final String MACHINE = "local";

  private final Path home;
  private final String controlPlaneUrl;
  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;

  /** {@code env}: the CLI's and the daemon's environment (with the dev CA under --tls). */
  DevSetup(
      Path home,
      String controlPlaneUrl,
      PrintStream out,
      PrintStream err,
      Map<String, String> env) {
    this.home = home;
    this.controlPlaneUrl = controlPlaneUrl;
    this.out = out;
    this.err = err;
    this.env = Map.copyOf(env);
  }

  /**
   * The bootstrap token of the dev deployment, made once and kept (0600) beside its data, so a
   * later run with the same data finds the deployment already bootstrapped by it.
   */
  static String bootstrapToken(Path home) throws IOException {
    Path file = home.resolve("dev").resolve("bootstrap-token");
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.UTF_8).trim();
    }
    KeyFiles.ensurePrivateDirectories(home, file.getParent());
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    PrivateFiles.createNew(file, token + "\n");
    return token;
  }

  private record Result(int code, String out, String err) {}

  private Result cli(String... args) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code =
        UmbraCli.execute(
            home,
            new PrintStream(o, true, StandardCharsets.UTF_8),
            new PrintStream(e, true, StandardCharsets.UTF_8),
            env,
            Cli.commands(), // `daemon pair` is the launcher's
            args);
    return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
  }

  private Result require(String what, String... args) {
    Result r = cli(args);
    if (r.code != 0) {
      throw new IllegalStateException(what + " failed: " + (r.err + r.out).strip());
    }
    return r;
  }

  /** Logs in and pairs; returns a one-line summary. */
  String prepare(String bootstrapToken) {
    followScheme();
    require(
        "logging the CLI in",
        "login",
        controlPlaneUrl,
        "--bootstrap-token",
        bootstrapToken,
        "--workspace",
        WORKSPACE);
    // the first owner's first device creates the workspace keyset and is trusted by definition;
    // before pairing, so the daemon pins the keyset when it pairs
    require("trusting this CLI as a device", "device", "trust", "--workspace", WORKSPACE);
    String workspaceId =
        new Credentials(home)
            .load()
            .map(Credentials.Saved::workspaceId)
            .orElseThrow(() -> new IllegalStateException("the CLI saved no workspace after login"));
    if (localBinding(workspaceId).filter(b -> stillActive(b)).isEmpty()) {
      JsonObject code =
          new JsonObject(require("creating a pairing code", "pair", "create", "--json").out);
      require(
          "pairing this machine",
          "daemon",
          "pair",
          code.getString("code"),
          "--url",
          controlPlaneUrl,
          "--name",
          MACHINE);
    }
    return "CLI logged in to workspace '"
        + WORKSPACE
        + "' as a trusted device; this machine is paired as '"
        + MACHINE
        + "'";
  }

  /**
   * A home that ran {@code umbra dev} without {@code --tls} and now runs it with (or the other way
   * round) has its login, this machine's binding and its agents saved for the same address under
   * the other scheme: they follow this run's, since it is the same deployment (same data, same
   * bootstrap token). Without this the login is refused as "already bootstrapped" and the daemon
   * keeps dialling the old scheme.
   */
  private void followScheme() {
    String other = otherScheme(controlPlaneUrl);
    if (other == null) {
      return;
    }
    Credentials logins = new Credentials(home);
    logins
        .load()
        .filter(s -> s.controlPlaneUrl().equals(other))
        .ifPresent(
            s ->
                logins.save(
                    new Credentials.Saved(
                        controlPlaneUrl, s.apiToken(), s.workspaceId(), s.workspaceName())));
    BindingStore bindings = new BindingStore(home);
    for (Binding b : bindings.list()) {
      if (b.controlPlaneUrl().equals(other)) {
        bindings.update(
            new Binding(
                b.workspaceId(),
                b.machineId(),
                b.installId(),
                controlPlaneUrl,
                b.name(),
                b.pairedAt()));
      }
      // an agent enrolled on this machine keeps its control plane's URL beside its keys
      AgentIdentity.moveControlPlane(home, b.workspaceId(), other, controlPlaneUrl);
    }
  }

  /** {@code url} with {@code http} and {@code https} swapped; null for any other scheme. */
  static String otherScheme(String url) {
    if (url.startsWith("https://")) {
      return "http://" + url.substring("https://".length());
    }
    if (url.startsWith("http://")) {
      return "https://" + url.substring("http://".length());
    }
    return null;
  }

  private Optional<Binding> localBinding(String workspaceId) {
    return new BindingStore(home)
        .list().stream()
            .filter(b -> b.workspaceId().toString().equals(workspaceId))
            .filter(b -> b.controlPlaneUrl().equals(controlPlaneUrl))
            .filter(b -> MACHINE.equals(b.name()))
            .findFirst();
  }

  private boolean stillActive(Binding b) {
    Result r = cli("machines", "list", "--json");
    if (r.code != 0) {
      return false;
    }
    for (Object o : new JsonArray(r.out)) {
      JsonObject m = (JsonObject) o;
      if (b.machineId().toString().equals(m.getString("id"))
          && "active".equals(m.getString("status"))) {
        return true;
      }
    }
    return false;
  }

  /** Runs `umbra daemon run` for the local machine on its own thread until the JVM stops. */
  void startDaemon() {
    Thread t =
        new Thread(
            () -> {
              int code = UmbraCli.execute(home, out, err, env, Cli.commands(), "daemon", "run");
              if (code != 0) {
                err.println("umbra dev: the local daemon stopped with exit code " + code);
              }
            },
            "umbra-dev-daemon");
    t.setDaemon(true);
    t.start();
  }
}
