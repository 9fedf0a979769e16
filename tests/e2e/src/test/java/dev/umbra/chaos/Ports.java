package dev.umbra.chaos;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for the suite's processes, which must keep theirs across restarts: free now and below
 * Linux's ephemeral range (32768 and up), so no outgoing connection of this busy machine takes one
 * between the pick and a restarted instance's bind (port 0 picks from that range).
 */
final class Ports {
  private static final Set<Integer> PICKED = ConcurrentHashMap.newKeySet();

  private Ports() {}

  static int free() {
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(20_000, 32_000);
      if (!PICKED.contains(port) && bindable(port) && PICKED.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port below the ephemeral range");
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
