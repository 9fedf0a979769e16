package dev.umbra.dist;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where `package` put the distribution (dist/pom.xml passes the directory and the version). */
record DistBuild(Path target, String version, String arch) {

  static DistBuild current() {
    String dir = System.getProperty("umbra.dist.dir");
    if (dir == null) {
      throw new IllegalStateException("umbra.dist.dir is not set: run with Maven (dist/pom.xml)");
    }
    String m = System.getProperty("os.arch");
    String arch = m.equals("amd64") || m.equals("x86_64") ? "x86_64" : m;
    return new DistBuild(Path.of(dir), System.getProperty("umbra.dist.version"), arch);
  }

  Path tarball() {
    return target.resolve("umbra-" + version + "-linux-" + arch + ".tar.gz");
  }

  /** The unpacked distribution `package` made the tarball from. */
  Path tree() {
    return target.resolve("dist").resolve("umbra-" + version);
  }

  static boolean isRoot() {
    try {
      return Files.getAttribute(Path.of("/proc/self"), "unix:uid").equals(0);
    } catch (java.io.IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
