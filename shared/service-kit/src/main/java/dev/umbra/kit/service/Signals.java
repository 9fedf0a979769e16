package dev.umbra.kit.service;

/**
 * SIGTERM and SIGINT handling, so a stop request drains and exits 0 instead of the JVM's default
 * 143. Uses jdk.unsupported's sun.misc.Signal, the only JDK hook for this.
 */
@SuppressWarnings("restriction")
public final class Signals {
  private Signals() {}

  public static void onTerminate(Runnable action) {
    Thread[] running = {null};
    sun.misc.SignalHandler handler =
        sig -> {
          synchronized (running) {
            if (running[0] == null) {
              running[0] = new Thread(action, "umbra-shutdown");
              running[0].start();
            }
          }
        };
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
  }
}
