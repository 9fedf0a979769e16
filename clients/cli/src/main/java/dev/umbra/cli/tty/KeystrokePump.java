package dev.umbra.cli.tty;

import dev.umbra.client.tty.TtyClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Copies the local terminal's keystrokes to the session, with ssh-style escapes after Enter: the
 * escapes act on the session (detach, control) instead of reaching the remote shell.
 */
final class KeystrokePump {
  private KeystrokePump() {}

  /** What the pump does to the session ({@link TtyClient}'s methods; a seam for tests). */
  interface Session {
    void send(byte[] keys);

    void detach();

    void requestControl();

    void takeControl();
  }

  /** {@code c} as the pump's session. */
  static Session of(TtyClient c) {
    return new Session() {
      @Override
      public void send(byte[] keys) {
        c.send(keys);
      }

      @Override
      public void detach() {
        c.detach();
      }

      @Override
      public void requestControl() {
        c.requestControl();
      }

      @Override
      public void takeControl() {
        c.takeControl();
      }
    };
  }

  /** Keystrokes to the session; "~." after Enter detaches, "~r" asks for control, "~t" takes it. */
  static void pump(InputStream in, Session c, TerminalListener ending) {
    byte[] buf = new byte[4096];
    boolean lineStart = true;
    boolean tilde = false;
    try {
      int n;
      while (!ending.done.isDone() && (n = in.read(buf)) >= 0) {
        ByteArrayOutputStream send = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
          byte b = buf[i];
          if (tilde) {
            tilde = false;
            if (b == '.') {
              // what was typed before the escape in the same read goes out first (a paste of
              // "ls\r~." used to lose the "ls\r")
              if (send.size() > 0) {
                c.send(send.toByteArray());
              }
              // the reason before detaching: detaching closes the socket, whose close handler
              // (another thread) would otherwise name the end "closed (code …)" first
              ending.closed("detached");
              c.detach();
              return;
            } else if (b == 'r') {
              c.requestControl();
              continue;
            } else if (b == 't') {
              c.takeControl();
              continue;
            } else if (b == '?') {
              ending.output(
                  "\r\n[umbra] ~. detach  ~r ask for control  ~t take control back  ~~ a tilde\r\n"
                      .getBytes(StandardCharsets.UTF_8));
              continue;
            } else if (b != '~') {
              send.write('~');
            }
          } else if (lineStart && b == '~') {
            tilde = true;
            continue;
          }
          send.write(b);
          lineStart = b == '\r' || b == '\n';
        }
        if (send.size() > 0) {
          try {
            c.send(send.toByteArray());
          } catch (IllegalStateException e) {
            return;
          }
        }
      }
    } catch (IOException e) {
      // the local terminal closed
    }
  }
}
