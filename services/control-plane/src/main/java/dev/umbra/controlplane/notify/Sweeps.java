package dev.umbra.controlplane.notify;

import io.vertx.core.Future;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/** Cross-workspace sweeps: one workspace after the other, each in its own transaction. */
public final class Sweeps {
  private Sweeps() {}

  /** Runs {@code each} for every workspace in turn; the sum of what they return. */
  public static Future<Integer> inTurn(
      List<UUID> workspaces, Function<UUID, Future<Integer>> each) {
    Future<Integer> f = Future.succeededFuture(0);
    for (UUID ws : workspaces) {
      f = f.compose(n -> each.apply(ws).map(m -> n + m));
    }
    return f;
  }
}
