package dev.umbra.launcher;

import dev.umbra.audit.AuditService;
import dev.umbra.controlplane.ControlPlaneService;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.pairing.PairingService;
import dev.umbra.relay.RelayService;
import dev.umbra.webtty.WebTtyService;
import java.util.function.Function;

/** The one place that knows every service's verticle, for running them all in one JVM. */
final class Services {
  private Services() {}

  static Function<ServiceRuntime, UmbraService> factory(ServiceName name) {
    return switch (name) {
      case CONTROL_PLANE -> ControlPlaneService::new;
      case PAIRING -> PairingService::new;
      case RELAY -> RelayService::new;
      case AUDIT -> AuditService::new;
      case WEBTTY_ENGINE -> WebTtyService::new;
    };
  }
}
