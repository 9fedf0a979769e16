package dev.umbra.kit.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InternalCredentialTest {

  static ServiceConfig config(ServiceName s, Path home, Map<String, String> extra) {
    java.util.HashMap<String, String> env = new java.util.HashMap<>(extra);
    env.put("UMBRA_HOME", home.toString());
    return ServiceConfig.load(s, new Env(env));
  }

  @Test
  void servicesSharingAHomeShareOneGeneratedCredential() throws Exception {
    Path home = Files.createTempDirectory("umbra-internal");
    InternalCredential cp =
        InternalCredential.load(config(ServiceName.CONTROL_PLANE, home, Map.of()));
    InternalCredential pairing =
        InternalCredential.load(config(ServiceName.PAIRING, home, Map.of()));
    assertThat(pairing.matches(cp.value())).isTrue();
    assertThat(cp.value()).hasSizeGreaterThanOrEqualTo(43);
    Path file = home.resolve(InternalCredential.FILE);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(cp.toString()).doesNotContain(cp.value());
  }

  @Test
  void theVariableWinsAndMustBeLongEnough() throws Exception {
    Path home = Files.createTempDirectory("umbra-internal");
    String value = "x".repeat(32);
    InternalCredential c =
        InternalCredential.load(
            config(ServiceName.PAIRING, home, Map.of(InternalCredential.ENV, value)));
    assertThat(c.value()).isEqualTo(value);
    assertThat(c.matches("y".repeat(32))).isFalse();
    assertThat(c.matches(null)).isFalse();
    assertThat(Files.exists(home.resolve(InternalCredential.FILE))).isFalse();
    assertThatThrownBy(
            () ->
                InternalCredential.load(
                    config(ServiceName.PAIRING, home, Map.of(InternalCredential.ENV, "short"))))
        .isInstanceOf(ConfigException.class);
  }
}
