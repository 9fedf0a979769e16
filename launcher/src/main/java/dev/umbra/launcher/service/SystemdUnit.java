package dev.umbra.launcher.service;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The daemon's systemd unit (docs/deploy.md, "The daemon as a service"): {@code umbra daemon run}
 * as a dedicated unprivileged user with its own UMBRA_HOME (0700, made by systemd's StateDirectory
 * when it is under /var/lib), restarted on failure with back-off, sandboxed (no new privileges, a
 * read-only system, no access to /home, a private /tmp) and logging to the journal. The Debian
 * package ships the same text: its build writes it with {@code umbra daemon install --root}.
 *
 * @param systemdVersion of the machine it is written on, 0 when unknown: the growing back-off
 *     (RestartSteps, RestartMaxDelaySec) needs systemd 254; older ones restart every RestartSec
 */
public record SystemdUnit(String user, Path home, Path exec, int systemdVersion) {
  public static final String NAME = "umbra-daemon.service";

  /** A user name systemd and useradd accept, nothing a unit file could misread. */
  private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");

  /** Absolute paths without white space, quotes, specifiers or escapes. */
  private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._/+-]*");

  public SystemdUnit {
    if (!USER.matcher(user).matches()) {
      throw new IllegalArgumentException("not a user name for a service: " + user);
    }
    if (user.equals("root")) {
      throw new IllegalArgumentException("the daemon does not run as root: give --user");
    }
    for (Path p : new Path[] {home, exec}) {
      if (!PATH.matcher(p.toString()).matches() || !p.normalize().equals(p)) {
        throw new IllegalArgumentException(
            "not an absolute path of letters, digits and ._/+-: " + p);
      }
    }
    if (home.getNameCount() < 2) {
      throw new IllegalArgumentException("UMBRA_HOME must be a directory of its own: " + home);
    }
  }

  /** Back-off keys systemd knows (254 and newer, or a version we could not learn). */
  boolean growingBackOff() {
    return systemdVersion == 0 || systemdVersion >= 254;
  }

  public String render() {
    StringBuilder s = new StringBuilder();
    s.append("# Written by `umbra daemon install` (docs/deploy.md); `umbra daemon uninstall`")
        .append(" removes it.\n")
        .append("[Unit]\n")
        .append("Description=Umbra daemon (this machine in its Umbra workspaces)\n")
        .append("After=network-online.target\n")
        .append("Wants=network-online.target\n")
        // never give up restarting (the back-off spaces the attempts)
        .append("StartLimitIntervalSec=0\n\n")
        .append("[Service]\n")
        .append("Type=simple\n")
        .append("User=")
        .append(user)
        .append('\n')
        .append("Group=")
        .append(user)
        .append('\n')
        .append("Environment=UMBRA_HOME=")
        .append(home)
        .append('\n')
        .append("Environment=HOME=")
        .append(home)
        .append('\n')
        // the shell of WebTTY sessions (the service user's login shell may be nologin)
        .append("Environment=SHELL=/bin/sh\n")
        .append("WorkingDirectory=")
        .append(home)
        .append('\n')
        .append("ExecStart=")
        .append(exec)
        .append(" daemon run\n")
        .append("Restart=on-failure\n")
        .append("RestartSec=5s\n");
    if (growingBackOff()) {
      s.append("RestartSteps=10\n").append("RestartMaxDelaySec=5min\n");
    }
    s.append("TimeoutStopSec=20s\n").append("UMask=0077\n");
    Path parent = home.getParent();
    if (parent.equals(Path.of("/var/lib"))) {
      s.append("StateDirectory=").append(home.getFileName()).append('\n');
      s.append("StateDirectoryMode=0700\n");
    }
    s.append("NoNewPrivileges=yes\n")
        .append("ProtectSystem=strict\n")
        // a home under /home or /root stays writable (ReadWritePaths lifts read-only, not "yes")
        .append("ProtectHome=")
        .append(home.startsWith("/home") || home.startsWith("/root") ? "read-only" : "yes")
        .append('\n')
        .append("PrivateTmp=yes\n")
        .append("ProtectKernelTunables=yes\n")
        .append("ProtectKernelModules=yes\n")
        .append("ProtectControlGroups=yes\n")
        .append("RestrictSUIDSGID=yes\n")
        .append("LockPersonality=yes\n")
        .append("ReadWritePaths=")
        .append(home)
        .append('\n')
        .append("StandardOutput=journal\n")
        .append("StandardError=journal\n")
        .append("SyslogIdentifier=umbra-daemon\n\n")
        .append("[Install]\n")
        .append("WantedBy=multi-user.target\n");
    return s.toString();
  }
}
