package dev.umbra.daemon.tty;

import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.RecordingHeader;
import dev.umbra.proto.webtty.TtyStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Decrypts a recording on the member's own device (docs/webtty.md): the payload key comes from the
 * opener's signed ClientProof in the header (grant addressed to this device's X25519 key), every
 * event is opened with its exact AAD; a tampered event fails the whole replay.
 */
public final class RecordingDecryptor {
  /** One decrypted event: output, input (when asked for), a resize or the exit status. */
  public record Chunk(long sequence, long timeMs, RecordedKind kind, TtyStream stream, byte[] bytes, int cols, int rows,
      int exitStatus) {}

  private RecordingDecryptor() {}

  /** Reads the replay stream: a delimited header, then delimited events. */
  public static List<Chunk> decrypt(InputStream replay, UUID workspaceId, X25519KeyPair me, boolean includeStdin)
      throws IOException {
    RecordingHeader header = RecordingHeader.parseDelimitedFrom(replay);
    if (header == null) {
      throw new IOException("empty recording stream");
    }
    List<RecordedEvent> events = new ArrayList<>();
    RecordedEvent e;
    while ((e = RecordedEvent.parseDelimitedFrom(replay)) != null) {
      events.add(e);
    }
    return decrypt(header, events, workspaceId, me, includeStdin);
  }

  public static List<Chunk> decrypt(RecordingHeader header, List<RecordedEvent> events, UUID workspaceId,
      X25519KeyPair me, boolean includeStdin) {
    PayloadKey key = TtyClient.unwrapOwnGrant(header.getClientProof(), workspaceId, header.getServerId(),
        header.getSessionId(), me);
    Handshake.ClientProof proof = Handshake.verifyProof(header.getClientProof());
    PayloadCipher cipher = new PayloadCipher(key, proof.payloadKeyId(), proof.keyContext());
    List<Chunk> out = new ArrayList<>();
    long expected = 1;
    for (RecordedEvent e : events) {
      if (e.getSequence() < expected) {
        throw new dev.umbra.crypto.MalformedInputException("recording events out of order");
      }
      expected = e.getSequence() + 1;
      switch (e.getKind()) {
        case RECORDED_KIND_DATA -> {
          if (e.getStream() == TtyStream.TTY_STREAM_STDIN && !includeStdin) {
            continue;
          }
          byte[] plain = cipher.open(TtyFrames.fromProto(e.getStream(), e.getSealed()));
          out.add(new Chunk(e.getSequence(), e.getTimeUnixMs(), e.getKind(), e.getStream(), plain, 0, 0, 0));
        }
        case RECORDED_KIND_RESIZE -> out.add(new Chunk(e.getSequence(), e.getTimeUnixMs(), e.getKind(),
            TtyStream.TTY_STREAM_UNSPECIFIED, new byte[0], e.getSize().getCols(), e.getSize().getRows(), 0));
        case RECORDED_KIND_EXIT -> out.add(new Chunk(e.getSequence(), e.getTimeUnixMs(), e.getKind(),
            TtyStream.TTY_STREAM_UNSPECIFIED, new byte[0], 0, 0, e.getExitStatus()));
        default -> throw new dev.umbra.crypto.MalformedInputException("unknown recording event kind");
      }
    }
    return out;
  }
}
