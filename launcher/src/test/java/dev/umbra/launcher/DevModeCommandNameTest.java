package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands {@code umbra dev} suggests once ready name the command the user has: a tarball's
 * user has no {@code bin/umbra} in their directory (it printed "try: bin/umbra tty local" there).
 */
class DevModeCommandNameTest {
  @TempDir Path tmp;

  private Path executable(Path file) throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "#!/bin/sh\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  @Test
  void aCheckoutSaysBinUmbra() {
    assertThat(DevMode.command(null, "/usr/bin")).isEqualTo("bin/umbra");
  }

  @Test
  void theDistributionSaysUmbraWhenThatNameOnPathIsItElseItsPath() throws Exception {
    Path dist = executable(tmp.resolve("umbra-0.1.0/bin/umbra"));
    Path usrBin = Files.createDirectories(tmp.resolve("usr/bin"));
    Files.createSymbolicLink(usrBin.resolve("umbra"), dist);
    Path other = executable(tmp.resolve("other/umbra"));

    assertThat(DevMode.command(dist.toString(), usrBin + File.pathSeparator + "/bin"))
        .as("a symlink on PATH to this distribution (the .deb's /usr/bin/umbra)")
        .isEqualTo("umbra");
    assertThat(DevMode.command(dist.toString(), "/nonexistent" + File.pathSeparator + "/bin"))
        .as("not on PATH: the path it runs from")
        .isEqualTo(dist.toString());
    assertThat(DevMode.command(dist.toString(), other.getParent() + File.pathSeparator + usrBin))
        .as("PATH finds another umbra first")
        .isEqualTo(dist.toString());
  }
}
