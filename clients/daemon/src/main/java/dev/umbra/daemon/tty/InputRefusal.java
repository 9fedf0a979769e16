package dev.umbra.daemon.tty;

import java.util.Locale;

/**
 * Why a stdin/resize frame was dropped before the PTY (counted {@code input_refused_<wire>}; the
 * session goes on).
 */
enum InputRefusal {
  REPLAYED,
  WRONG_KEY,
  RETIRED_KEY,
  WRONG_SENDER,
  NO_CONTROLLER,
  UNSEALED_RESIZE;

  String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
