package dev.umbra.cli.tty;

import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jline.builtins.ScreenTerminal;

/**
 * Renders decrypted terminal output the way a terminal's scrollback would show it, through JLine's
 * VT100/xterm emulator ({@link ScreenTerminal}): escape sequences are applied, not printed, and
 * what full-screen programs draw on the alternate screen (vim, less, htop) disappears when they
 * leave it. The primary screen is {@code maxLines} tall so that it doubles as the scrollback; older
 * lines beyond that are lost, and a {@code clear} clears what it covers (docs/webtty.md).
 */
public final class ScrollbackRenderer {
  public static final int DEFAULT_MAX_LINES = 10_000;
  private final ScreenTerminal screen;
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE);
  private final java.nio.ByteBuffer pending = java.nio.ByteBuffer.allocate(8);
  private int cols;
  private final int maxLines;

  public ScrollbackRenderer(int cols, int maxLines) {
    this.cols = Math.max(1, cols);
    this.maxLines = maxLines;
    this.screen = new ScreenTerminal(this.cols, maxLines);
  }

  /** A resize changes the width of what follows (the height stays the scrollback's). */
  public void resize(int newCols) {
    if (newCols > 0 && newCols != cols) {
      cols = newCols;
      screen.setSize(cols, maxLines);
    }
  }

  /** Feeds output bytes (UTF-8 split across chunks is joined). */
  public void write(byte[] bytes) {
    java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(pending.position() + bytes.length);
    pending.flip();
    in.put(pending);
    pending.clear();
    in.put(bytes);
    in.flip();
    java.nio.CharBuffer out = java.nio.CharBuffer.allocate(in.remaining() + 1);
    utf8.decode(in, out, false);
    while (in.hasRemaining() && pending.hasRemaining()) {
      pending.put(in.get());
    }
    out.flip();
    screen.write(out);
  }

  /** The rendered text: trailing spaces and trailing empty lines removed. */
  public String text() {
    String[] lines = screen.toString().split("\n", -1);
    List<String> out = new ArrayList<>();
    for (String l : lines) {
      out.add(l.replaceAll("\\s+$", ""));
    }
    int end = out.size();
    while (end > 0 && out.get(end - 1).isEmpty()) {
      end--;
    }
    return end == 0 ? "" : String.join("\n", out.subList(0, end)) + "\n";
  }
}
