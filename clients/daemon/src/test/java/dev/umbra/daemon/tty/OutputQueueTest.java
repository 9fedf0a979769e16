package dev.umbra.daemon.tty;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * PTY output between reader and sealer: in order, bounded in bytes, and never stuck when either
 * side stops.
 */
class OutputQueueTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  @Test
  void chunksComeOutInTheOrderPutThenTheEnd() throws Exception {
    OutputQueue q = new OutputQueue(100);
    byte[] a = {1};
    byte[] b = {2};
    assertThat(q.put(a)).isTrue();
    assertThat(q.put(b)).isTrue();
    q.close();
    assertThat(q.take()).isSameAs(a);
    assertThat(q.take()).isSameAs(b);
    assertThat(q.take()).isNull();
  }

  @Test
  void idleOnlyWhenNothingIsQueuedOrBeingSealed() throws Exception {
    OutputQueue q = new OutputQueue(100);
    assertThat(q.idle()).isTrue();
    byte[] a = new byte[10];
    q.put(a);
    assertThat(q.idle()).isFalse();
    q.take();
    assertThat(q.idle()).as("taken but still being sealed").isFalse();
    q.done(a);
    assertThat(q.idle()).isTrue();
  }

  @Test
  void theReaderWaitsBeyondTheBoundUntilTheSealerIsDoneWithAChunk() throws Exception {
    OutputQueue q = new OutputQueue(100);
    byte[] first = new byte[60];
    q.put(first);
    CompletableFuture<Boolean> second = CompletableFuture.supplyAsync(() -> put(q, new byte[60]));
    assertThat(q.take()).isSameAs(first);
    // 60 bytes are still being sealed: 60 more would exceed the bound
    assertThat(second).isNotDone();
    q.done(first);
    assertThat(second.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
  }

  @Test
  void aChunkLargerThanTheBoundIsTakenWhenNothingIsPending() throws Exception {
    OutputQueue q = new OutputQueue(10);
    assertThat(q.put(new byte[64])).isTrue();
  }

  @Test
  void aStoppedSealerReleasesAWaitingReaderAndRefusesMore() throws Exception {
    OutputQueue q = new OutputQueue(100);
    q.put(new byte[100]);
    CompletableFuture<Boolean> blocked = CompletableFuture.supplyAsync(() -> put(q, new byte[1]));
    q.abort();
    assertThat(blocked.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isFalse();
    assertThat(q.put(new byte[1])).isFalse();
    assertThat(q.take()).isNull();
  }

  private static boolean put(OutputQueue q, byte[] chunk) {
    try {
      return q.put(chunk);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
