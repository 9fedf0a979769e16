package dev.umbra.relay.routing;

import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.metrics.RelayMetrics.Suppressed;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Bounds what frames a peer sends for a daemon or client this instance does not hold can make it do
 * (docs/relay.md, "Mesh"): per link and route key, the first such frame of a {@link #WINDOW_NANOS}
 * window is answered at once with a {@code no_route} signal (the route is corrected without delay)
 * and its bus publish; the repeated signals of the window are held back and counted. Later frames
 * are still published (they reach a daemon or client that moved to another instance) until the bus
 * says nobody listens; from then on they are dropped and counted until the window ends. Those that
 * arrive while the first publish waits for that answer wait with it, in order, at most {@link
 * #MAX_WAITING} of them. On the relay's event loop.
 */
final class NoRouteGate {
  static final long WINDOW_NANOS = 1_000_000_000L;
  static final int MAX_WAITING = 1024;
  private static final int MAX_KEYS = 100_000;

  private record Key(MeshLink link, String route) {}

  /** One window of one (link, route key). */
  static final class Window {
    private final long startNanos;
    private boolean answered;
    private boolean nobody;
    private List<Runnable> waiting = new ArrayList<>();

    private Window(long startNanos) {
      this.startNanos = startNanos;
    }
  }

  /** A frame's miss: its window and whether it is the window's first. */
  record Miss(Window window, boolean first) {}

  private final Map<Key, Window> windows = new HashMap<>();
  private final RelayMetrics metrics;

  NoRouteGate(RelayMetrics metrics) {
    this.metrics = metrics;
  }

  /**
   * Records a frame over {@code l} for {@code route}, which this instance does not hold; a new
   * window starts when the last one ended and its publish was answered.
   */
  Miss miss(MeshLink l, String route, long now) {
    Key k = new Key(l, route);
    Window w = windows.get(k);
    if (w != null && (now - w.startNanos < WINDOW_NANOS || !w.answered)) {
      metrics.suppressed(Suppressed.NO_ROUTE_SIGNAL);
      return new Miss(w, false);
    }
    if (windows.size() >= MAX_KEYS) {
      // only answered windows go: a waiting one still holds frames to publish
      windows.values().removeIf(x -> x.answered);
    }
    w = new Window(now);
    windows.put(k, w);
    return new Miss(w, true);
  }

  /**
   * Publishes the frame of {@code m} with {@code publish} (which calls back with whether the bus
   * said nobody listens, once answered), unless the bus said so already in this window.
   */
  void publish(Miss m, Publish publish) {
    Window w = m.window();
    if (m.first()) {
      publish.run(
          nobody -> {
            w.answered = true;
            w.nobody = nobody;
            List<Runnable> held = w.waiting;
            w.waiting = null;
            held.forEach(Runnable::run);
          });
    } else if (!w.answered) {
      if (w.waiting.size() >= MAX_WAITING) {
        metrics.suppressed(Suppressed.NO_ROUTE_BACKLOG);
      } else {
        w.waiting.add(() -> publishAnswered(w, publish));
      }
    } else {
      publishAnswered(w, publish);
    }
  }

  private void publishAnswered(Window w, Publish publish) {
    if (w.nobody) {
      metrics.suppressed(Suppressed.NO_ROUTE_PUBLISH);
    } else {
      publish.run(nobody -> {});
    }
  }

  /**
   * A link went down: its answered windows go (waiting ones end when their publish is answered).
   */
  void forget(MeshLink l) {
    windows.entrySet().removeIf(e -> e.getKey().link() == l && e.getValue().answered);
  }

  /** A publish of a frame; calls {@code answered} with whether the bus said nobody listens. */
  interface Publish {
    void run(java.util.function.Consumer<Boolean> answered);
  }
}
