package dev.umbra.webtty.recording;

import dev.umbra.proto.webtty.RecordedEvent;
import java.util.UUID;

/** One event waiting to be stored: its workspace and session, and the event as replay sends it. */
public record StoredEvent(UUID workspaceId, String sessionId, RecordedEvent event) {
  /** Ciphertext bytes it holds (what bounds the writer's queue). */
  public int bytes() {
    return event.getSealed().getCiphertext().size();
  }
}
