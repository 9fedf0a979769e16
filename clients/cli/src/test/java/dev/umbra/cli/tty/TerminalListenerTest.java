package dev.umbra.cli.tty;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Where `umbra tty` learns why its session ended. */
class TerminalListenerTest {

  @Test
  void whoeverWakesOnTheEndReadsWhyTheSessionClosed() {
    // the command's main thread wakes on `done` and prints the reason at once: it must be set
    // first (a chaos run once printed "session closed: " with the reason still on its way)
    TerminalListener l = new TerminalListener(OutputStream.nullOutputStream());
    AtomicReference<String> seen = new AtomicReference<>();
    l.done.thenRun(() -> seen.set(l.reason()));

    l.closed("replaced");

    assertThat(seen.get()).isEqualTo("replaced");
    l.closed("closed (code 1006)");
    assertThat(l.reason()).as("the first reason stays").isEqualTo("replaced");
  }

  @Test
  void anEmptyReasonIsNamedAsSuch() {
    TerminalListener l = new TerminalListener(OutputStream.nullOutputStream());
    l.closed("");
    assertThat(l.done).isCompletedWithValue(null);
    assertThat(l.reason()).isEqualTo("no reason given");
  }
}
