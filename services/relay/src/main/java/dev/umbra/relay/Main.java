package dev.umbra.relay;

import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.service.ServiceMain;

/** Runs the relay service as its own process; configuration comes from UMBRA_* variables. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    ServiceMain.run(ServiceName.RELAY, RelayService::new);
  }
}
