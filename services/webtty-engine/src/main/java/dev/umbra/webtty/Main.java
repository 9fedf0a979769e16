package dev.umbra.webtty;

import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.service.ServiceMain;

/**
 * Runs the webtty-engine service as its own process; configuration comes from UMBRA_* variables.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    ServiceMain.run(ServiceName.WEBTTY_ENGINE, WebTtyService::new);
  }
}
