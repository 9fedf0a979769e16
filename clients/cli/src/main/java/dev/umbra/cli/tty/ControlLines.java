package dev.umbra.cli.tty;

import dev.umbra.cli.CliException;
import dev.umbra.client.tty.TtyClient;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * What the running {@code umbra tty} does with a line from its {@link ControlSocket} ({@code umbra
 * tty control ...} and {@code umbra tty share ...}): acts on its session and answers one line.
 */
final class ControlLines {
  private ControlLines() {}

  /**
   * {@code targets} resolves {@code share} values (members, devices or keys) to recipients; a reply
   * starting with "error" makes the sending command fail.
   */
  static String handle(
      TtyClient c, String line, Function<List<String>, SessionRecipients.ShareTargets> targets) {
    String[] parts = line.split("\\s+");
    switch (parts[0]) {
      case "share" -> {
        if (parts.length < 2) {
          return "error: share <member|device> ...";
        }
        List<String> with = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
          with.add(URLDecoder.decode(parts[i], StandardCharsets.UTF_8));
        }
        try {
          SessionRecipients.ShareTargets t = targets.apply(with);
          if (t.keys().isEmpty()) {
            return "error: nobody to add (only this device matched)";
          }
          c.share(t.keys(), t.vouches(), t.self());
          return "ok: share request sent for "
              + String.join(", ", t.names())
              + "; the session shows the daemon's answer (a new output key, or share_refused_<reason>)";
        } catch (CliException | IllegalStateException e) {
          return "error: " + e.getMessage();
        }
      }
      case "request" -> c.requestControl();
      case "give" -> {
        if (parts.length < 2) {
          return "error: give <participant>";
        }
        c.giveControl(parts[1]);
      }
      case "take" -> c.takeControl();
      case "who" -> {
        return "me " + c.participantId() + "; others " + c.participants();
      }
      default -> {
        return "error: unknown command " + parts[0];
      }
    }
    return "ok";
  }
}
