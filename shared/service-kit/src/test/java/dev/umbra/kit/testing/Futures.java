package dev.umbra.kit.testing;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A test thread waiting for a Vert.x future, with a deadline. */
public final class Futures {
  private Futures() {}

  /**
   * The result of {@code f}; throws its failure (wrapped) or a timeout when it has not completed
   * within {@code within}.
   */
  public static <T> T await(Future<T> f, Duration within) throws Exception {
    return f.toCompletionStage()
        .toCompletableFuture()
        .get(within.toMillis(), TimeUnit.MILLISECONDS);
  }
}
