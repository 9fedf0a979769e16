package dev.umbra.controlplane;

import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.service.ServiceMain;

/**
 * Runs the control-plane service as its own process; configuration comes from UMBRA_* variables.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    ServiceMain.run(ServiceName.CONTROL_PLANE, ControlPlaneService::new);
  }
}
