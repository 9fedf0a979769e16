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

  /** Keystrokes to the session; "~." after Enter detaches, "~r" asks for control, "~t" takes it. */
  static void pump(InputStream in, TtyClient c, TerminalListener ending) {
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
              c.detach();
              ending.closed("detached");
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
