package dev.umbra.kit.testing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** What crosses a bus, recorded for tests that look for what must never cross it. */
public final class BusTraffic {
  private BusTraffic() {}

  /**
   * Records every message on {@code bus} under {@code umbra.*} from now on, each as its channel, a
   * space and its body read as ISO-8859-1 (one char a byte, so a search for bytes is a string
   * search); the list grows as messages arrive.
   */
  public static List<String> recordAll(Bus bus) throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    Futures.await(
        bus.subscribePattern(
            "umbra.*",
            (BusMessage m) ->
                seen.add(
                    m.channel()
                        + " "
                        + new String(m.body().getBytes(), StandardCharsets.ISO_8859_1))),
        Duration.ofSeconds(10));
    return seen;
  }
}
