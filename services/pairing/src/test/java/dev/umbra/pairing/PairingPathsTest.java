package dev.umbra.pairing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.proto.api.PairingPaths;
import dev.umbra.proto.api.PathTemplates;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Route;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every path the clients build from {@link PairingPaths} is a route the pairing service mounts. */
@ExtendWith(VertxExtension.class)
class PairingPathsTest {
  @Test
  void everySharedPathTemplateIsAMountedRoute(Vertx vertx) throws Exception {
    try (PairingHarness h = new PairingHarness(vertx, Map.of())) {
      Set<String> mounted = new TreeSet<>();
      for (Route r : h.service.router().getRoutes()) {
        if (r.getPath() != null) {
          mounted.add(r.getPath());
        }
      }
      List<String> shared =
          List.of(PairingPaths.CODES, PairingPaths.CODE, PairingPaths.PSK, PairingPaths.REDEEM);
      assertThat(mounted).containsAll(shared.stream().map(PathTemplates::vertxRoute).toList());
    }
  }
}
