package dev.umbra.cli.tty;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `umbra tty`'s keystrokes and ssh-style escapes. */
class KeystrokePumpTest {

  /** A session that records what the pump did; its detach closes like the real socket does. */
  private static final class Recorded implements KeystrokePump.Session {
    final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    final List<String> calls = new ArrayList<>();
    final TerminalListener ending;

    Recorded(TerminalListener ending) {
      this.ending = ending;
    }

    @Override
    public void send(byte[] keys) {
      sent.writeBytes(keys);
    }

    @Override
    public void detach() {
      calls.add("detach");
      // the real client's close handler can run before detach() even returns
      ending.closed("closed (code 1000)");
    }

    @Override
    public void requestControl() {
      calls.add("request");
    }

    @Override
    public void takeControl() {
      calls.add("take");
    }
  }

  private static Recorded pump(String typed) {
    TerminalListener ending = new TerminalListener(OutputStream.nullOutputStream());
    Recorded s = new Recorded(ending);
    KeystrokePump.pump(new ByteArrayInputStream(typed.getBytes(StandardCharsets.UTF_8)), s, ending);
    return s;
  }

  @Test
  void tildeDotAfterEnterDetachesAndSaysSoWhateverTheSocketReports() {
    Recorded s = pump("ls\r~.echo never\r");

    assertThat(s.calls).containsExactly("detach");
    assertThat(s.ending.reason()).isEqualTo("detached");
    assertThat(s.sent.toString(StandardCharsets.UTF_8)).isEqualTo("ls\r");
  }

  @Test
  void escapesActOnlyAtALineStartAndADoubleTildeSendsOne() {
    Recorded s = pump("a~.b\r~~x\r~r~tz~r");

    assertThat(s.calls)
        .as("an escape keeps the line start: ~t right after ~r is one too")
        .containsExactly("request", "take");
    assertThat(s.sent.toString(StandardCharsets.UTF_8)).isEqualTo("a~.b\r~x\rz~r");
    assertThat(s.ending.done).isNotDone();
  }
}
