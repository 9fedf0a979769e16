package dev.umbra.client.tty;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * What a {@link TtyClient} shows its user, kept for a test: the output bytes, the exit status, the
 * close reason, the events and the integrity problems, with waits that poll with a deadline. One
 * listener for every end-to-end test of the TTY path (docs/webtty.md).
 */
public final class TtyScreen implements TtyClient.Listener {
  /** How long {@link #await(String)} and {@link #awaitEvent} wait before failing. */
  static final Duration WITHIN = Duration.ofSeconds(15);

  public final CompletableFuture<Integer> exit = new CompletableFuture<>();
  public final CompletableFuture<String> closed = new CompletableFuture<>();
  public final List<WebTtyFrame> events = new CopyOnWriteArrayList<>();
  public final List<String> integrity = new CopyOnWriteArrayList<>();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final Supplier<String> diagnostics;

  /** A screen whose failed waits say what it saw. */
  public TtyScreen() {
    this(() -> "");
  }

  /**
   * A screen whose failed waits also say {@code diagnostics} (the servers' counters, say), asked
   * only when a wait fails.
   */
  public TtyScreen(Supplier<String> diagnostics) {
    this.diagnostics = diagnostics;
  }

  @Override
  public synchronized void output(byte[] bytes) {
    out.writeBytes(bytes);
  }

  @Override
  public void exit(int status) {
    exit.complete(status);
  }

  @Override
  public void closed(String reason) {
    closed.complete(reason);
  }

  @Override
  public void event(WebTtyFrame frame) {
    events.add(frame);
  }

  @Override
  public void integrity(String problem, long count) {
    integrity.add(problem + ":" + count);
  }

  public synchronized String text() {
    return out.toString(StandardCharsets.UTF_8);
  }

  public synchronized byte[] bytes() {
    return out.toByteArray();
  }

  /** Waits until the output holds {@code needle}. */
  public void await(String needle) {
    await(needle, WITHIN);
  }

  /** Waits up to {@code within} until the output holds {@code needle}. */
  public void await(String needle, Duration within) {
    try {
      Eventually.await("'" + needle + "' in the output", within, () -> text().contains(needle));
    } catch (AssertionError notYet) {
      throw new AssertionError(
          notYet.getMessage()
              + ": "
              + text()
              + "; events "
              + events
              + "; integrity "
              + integrity
              + "; closed "
              + closed.getNow("-")
              + diagnostics.get(),
          notYet);
    }
  }

  /** Waits for an event of {@code type}, takes it from {@link #events} and returns it. */
  public WebTtyFrame awaitEvent(WebTtyFrameType type) {
    WebTtyFrame f =
        Eventually.until(
                "a " + type + " event (events " + events + ")",
                WITHIN,
                () -> events.stream().filter(e -> e.getType() == type).findFirst(),
                Optional::isPresent)
            .orElseThrow();
    events.remove(f);
    return f;
  }
}
