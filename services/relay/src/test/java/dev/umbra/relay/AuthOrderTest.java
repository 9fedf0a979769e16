package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.AuthFirstWalk;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.wire.RelayWire;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Authentication before any parsing, walked from the relay's router. */
class AuthOrderTest {
  @RegisterExtension static final RelayCluster.Fixture fixture = new RelayCluster.Fixture();
  @TempDir Path home;

  @Test
  void everyNonPublicRouteRefusesAnUnauthenticatedMalformedRequestWith401AndNoFieldName() {
    try (RelayCluster cluster =
        fixture.cluster(home, Map.of("UMBRA_ADMIN_TOKEN", "admin-token-for-tests-0123456789"))) {
      RelayCluster.Instance relay = cluster.start();
      List<AuthFirstWalk.Probe> probes =
          AuthFirstWalk.walk(
              relay.service().router(), relay.service().actualPort(), AuthFirstWalk.KIT_PUBLIC);
      assertThat(probes).extracting(AuthFirstWalk.Probe::route).contains("GET " + RelayWire.PATH);
      assertThat(AuthFirstWalk.problems(probes)).isEmpty();
    }
  }
}
