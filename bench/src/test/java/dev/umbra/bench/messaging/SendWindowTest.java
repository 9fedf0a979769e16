package dev.umbra.bench.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The owner's window of messages in flight (MessagingBench): every message gives its permit back
 * exactly once whatever becomes of its request, and a window that stops moving says what is
 * outstanding instead of waiting forever.
 */
class SendWindowTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  /**
   * Posts that throw before they have a future (a session refresh refused), posts that fail later
   * on the event loop and posts that succeed, mixed: the window is whole at the end and every
   * message of a failed post is counted failed. A throw used to leave its request counted running
   * and its messages off the queue without an outcome: two of them and nothing was sent again.
   */
  @Test
  void keepsTheWindowWholeWhenPostsThrowFailOrSucceed() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger failedMessages = new AtomicInteger();
    PostBatcher batcher =
        new PostBatcher(
            (seqs, messages) -> {
              int k = calls.getAndIncrement();
              if (k % 3 == 0) {
                failedMessages.addAndGet(seqs.length);
                throw new IllegalStateException("session refresh refused");
              }
              Future<Void> later = vertx.timer(1).mapEmpty();
              if (k % 3 == 1) {
                failedMessages.addAndGet(seqs.length);
                return later.compose(v -> Future.failedFuture("HTTP 503"));
              }
              return later;
            });
    SendWindow window = new SendWindow(4, Duration.ofSeconds(20), batcher::state);

    for (int i = 0; i < 300; i++) {
      int seq = i;
      window.send(seq, () -> batcher.add(seq, new JsonObject().put("seq", seq)));
    }
    window.drain();

    assertThat(window.free()).isEqualTo(4);
    assertThat(calls.get()).isGreaterThan(3);
    assertThat(window.failed()).isEqualTo(failedMessages.get()).isPositive();
    assertThat(batcher.state()).isEqualTo("requests in flight 0, messages queued 0");
  }

  /** A send that throws before it has a future (its sealing failed) gives its permit back. */
  @Test
  void givesThePermitOfASendThatThrowsBack() throws Exception {
    SendWindow window = new SendWindow(2, Duration.ofSeconds(20), () -> "");

    window.send(
        0,
        () -> {
          throw new IllegalStateException("ratchet refused");
        });
    window.drain();

    assertThat(window.free()).isEqualTo(2);
    assertThat(window.failed()).isEqualTo(1);
    assertThat(window.lastError()).contains("ratchet refused");
  }

  /**
   * Requests that are never answered (and never time out) stop the window: the next send fails
   * after the stall limit, naming the messages outstanding and the batcher's state.
   */
  @Test
  void failsNamingWhatIsOutstandingWhenNothingMoves() throws Exception {
    PostBatcher batcher = new PostBatcher((seqs, messages) -> Promise.<Void>promise().future());
    SendWindow window = new SendWindow(2, Duration.ofSeconds(2), batcher::state);
    window.send(0, () -> batcher.add(0, new JsonObject()));
    window.send(1, () -> batcher.add(1, new JsonObject()));

    assertThatThrownBy(() -> window.send(2, () -> batcher.add(2, new JsonObject())))
        .isInstanceOf(SendWindow.Stalled.class)
        .hasMessageContaining("window 0 of 2 free, 2 outstanding: #0 for ")
        .hasMessageContaining(", #1 for ")
        .hasMessageContaining("requests in flight 2, messages queued 0");
  }
}
