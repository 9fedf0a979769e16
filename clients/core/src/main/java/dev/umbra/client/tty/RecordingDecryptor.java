package dev.umbra.client.tty;

import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.webtty.InputKeyGrant;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.OutputKeyEpoch;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.crypto.webtty.Stream;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.RecordingHeader;
import dev.umbra.proto.webtty.TtyStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Decrypts a recording on the member's own device (docs/webtty.md "Recordings"). The output key
 * comes from the opener's signed ClientProof in the header (the grant to this device's X25519 key);
 * input keys from the same proof (epoch 0: the opener and the daemon's side) and from the
 * daemon-signed INPUT_KEY events of control handovers, verified against the server key of the
 * signed hello in the header. Every event is opened with its exact AAD (a tampered one fails the
 * whole export) and its counter is checked against the receiver rules: a missing or repeated event
 * is reported as a note chunk, never rendered. Stdin under a key this device does not hold (a
 * viewer's export) is reported as unreadable, once per key.
 */
public final class RecordingDecryptor {
  /**
   * One decrypted event: output, input (when asked for), a resize or the exit status; or, with kind
   * UNSPECIFIED and a {@code note}, a finding of the receiver rules (gap, repeat, unreadable
   * stdin).
   */
  public record Chunk(
      long sequence,
      long timeMs,
      RecordedKind kind,
      TtyStream stream,
      byte[] bytes,
      int cols,
      int rows,
      int exitStatus,
      String note) {

    /** A decrypted event (no note). */
    public Chunk(
        long sequence,
        long timeMs,
        RecordedKind kind,
        TtyStream stream,
        byte[] bytes,
        int cols,
        int rows,
        int exitStatus) {
      this(sequence, timeMs, kind, stream, bytes, cols, rows, exitStatus, null);
    }

    static Chunk note(RecordedEvent e, String note) {
      return new Chunk(
          e.getSequence(),
          e.getTimeUnixMs(),
          RecordedKind.RECORDED_KIND_UNSPECIFIED,
          TtyStream.TTY_STREAM_UNSPECIFIED,
          new byte[0],
          0,
          0,
          0,
          note);
    }

    public boolean isNote() {
      return note != null;
    }
  }

  private RecordingDecryptor() {}

  /** Reads the replay stream: a delimited header, then delimited events. */
  public static List<Chunk> decrypt(
      InputStream replay, UUID workspaceId, X25519KeyPair me, boolean includeStdin)
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

  public static List<Chunk> decrypt(
      RecordingHeader header,
      List<RecordedEvent> events,
      UUID workspaceId,
      X25519KeyPair me,
      boolean includeStdin) {
    Handshake.ClientProof proof = Handshake.verifyProof(header.getClientProof());
    Handshake.ServerHello hello = Handshake.verify(header.getServerHello());
    if (!hello.workspaceId().equals(workspaceId.toString())
        || !hello.sessionId().equals(header.getSessionId())
        || !hello.serverId().equals(proof.serverId())) {
      throw new dev.umbra.crypto.AuthenticationFailedException(
          "recording hello is for another session");
    }
    if (!proof.workspaceId().equals(workspaceId.toString())
        || !proof.sessionId().equals(header.getSessionId())
        || !proof.serverId().equals(header.getServerId())) {
      throw new dev.umbra.crypto.AuthenticationFailedException(
          "recording proof is for another session");
    }
    // the output key of epoch 0 (null for a device added by a later share: it reads from its epoch
    // on)
    if (proof.grantFor(KeyId.of(me.publicKey()), KeyRole.OUTPUT) == null
        && events.stream().noneMatch(ev -> ev.getKind() == RecordedKind.RECORDED_KIND_OUTPUT_KEY)) {
      // never a recipient (no share happened): nothing of this recording is for this device
      throw new dev.umbra.crypto.AuthenticationFailedException(
          "the session's output key was not granted to this key");
    }
    Replay replay = new Replay(header.getSessionId(), workspaceId, proof, hello, me);
    long expected = 1;
    for (RecordedEvent e : events) {
      if (e.getSequence() < expected) {
        throw new dev.umbra.crypto.MalformedInputException("recording events out of order");
      }
      expected = e.getSequence() + 1;
      switch (e.getKind()) {
        case RECORDED_KIND_DATA -> replay.data(e, includeStdin);
        case RECORDED_KIND_RESIZE -> replay.resize(e);
        case RECORDED_KIND_INPUT_KEY -> replay.inputKey(e);
        case RECORDED_KIND_OUTPUT_KEY -> replay.outputKey(e);
        // an engine failover (docs/webtty.md "Engine failover"): what was lost shows as missing
        // counters after it; the mark says why
        case RECORDED_KIND_GAP ->
            replay.out.add(
                Chunk.note(
                    e,
                    "gap: engine failover at event "
                        + e.getSequence()
                        + " (events the failed instance had not stored are missing)"));
        case RECORDED_KIND_EXIT ->
            replay.out.add(
                new Chunk(
                    e.getSequence(),
                    e.getTimeUnixMs(),
                    e.getKind(),
                    TtyStream.TTY_STREAM_UNSPECIFIED,
                    new byte[0],
                    0,
                    0,
                    e.getExitStatus(),
                    null));
        default ->
            throw new dev.umbra.crypto.MalformedInputException("unknown recording event kind");
      }
    }
    return replay.out;
  }

  /**
   * One recording being read, event by event: the keys this device holds (the current output-key
   * epoch, the input keys of every control epoch granted to it), the receiver counters, and the
   * chunks so far. Each step applies the rules of one event kind.
   */
  private static final class Replay {
    private final String sessionId;
    private final UUID workspaceId;
    private final Handshake.ClientProof proof;
    private final Handshake.ServerHello hello;
    private final X25519KeyPair me;
    private final KeyId myId;
    final List<Chunk> out = new ArrayList<>();
    private final PayloadCounters counters = PayloadCounters.fromZero();

    /** Input keys this device holds, by key id; stdin under any other key is unreadable here. */
    private final Map<PayloadKeyId, PayloadCipher> inputs = new HashMap<>();

    /** Keys already reported unreadable (once per key). */
    private final Set<PayloadKeyId> unreadable = new HashSet<>();

    /**
     * The current output-key epoch (shares): its context, number, key id; and every key id it had.
     */
    private KeyContext outputContext;

    private long outputEpoch;
    private PayloadKeyId outputKeyId;
    private final Set<PayloadKeyId> outputKeyIds = new HashSet<>();

    /** The current epoch's output cipher, or null when this device is not among its recipients. */
    private PayloadCipher output;

    /** The control (input-key) epoch. */
    private long inputEpoch;

    Replay(
        String sessionId,
        UUID workspaceId,
        Handshake.ClientProof proof,
        Handshake.ServerHello hello,
        X25519KeyPair me) {
      this.sessionId = sessionId;
      this.workspaceId = workspaceId;
      this.proof = proof;
      this.hello = hello;
      this.me = me;
      this.myId = KeyId.of(me.publicKey());
      this.outputContext = proof.keyContext();
      this.outputKeyId = proof.outputKeyId();
      outputKeyIds.add(outputKeyId);
      KeyGrant output0 = proof.grantFor(myId, KeyRole.OUTPUT);
      output =
          output0 == null
              ? null
              : new PayloadCipher(
                  KeyRole.OUTPUT,
                  KeyGrants.unwrap(output0, proof.keyContext(), me),
                  proof.outputKeyId(),
                  proof.keyContext());
      KeyGrant input0 = proof.grantFor(myId, KeyRole.INPUT);
      if (input0 != null) {
        inputs.put(
            proof.inputKeyId(),
            new PayloadCipher(
                KeyRole.INPUT,
                KeyGrants.unwrap(input0, proof.keyContext(), me),
                proof.inputKeyId(),
                proof.keyContext()));
      }
    }

    /** Output or stdin: opened under the key it names if this device holds it, then counted. */
    void data(RecordedEvent e, boolean includeStdin) {
      boolean stdin = e.getStream() == TtyStream.TTY_STREAM_STDIN;
      if (stdin && !includeStdin) {
        return;
      }
      SealedPayload p = TtyFrames.fromProto(e.getStream(), e.getSealed());
      if (!stdin && !p.payloadKeyId().equals(outputKeyId)) {
        // output under a key retired by a share (or never announced): refused, never rendered
        out.add(
            Chunk.note(
                e,
                "output under a retired or unknown output key "
                    + p.payloadKeyId().toHex()
                    + " at event "
                    + e.getSequence()
                    + ", not rendered"));
        return;
      }
      if (!stdin && output == null) {
        if (unreadable.add(p.payloadKeyId())) {
          out.add(
              Chunk.note(
                  e,
                  "output under output key "
                      + p.payloadKeyId().toHex()
                      + " is not readable with this device's keys (it was added to the session later)"));
        }
        return;
      }
      PayloadCipher c = stdin ? inputs.get(p.payloadKeyId()) : output;
      if (c == null) {
        if (unreadable.add(p.payloadKeyId())) {
          out.add(
              Chunk.note(
                  e,
                  "stdin under input key "
                      + p.payloadKeyId().toHex()
                      + " is not readable with this device's keys (it was not the controller then)"));
        }
        return;
      }
      byte[] plain = c.open(p);
      if (ordered(counters, p, e, out)) {
        out.add(
            new Chunk(
                e.getSequence(),
                e.getTimeUnixMs(),
                e.getKind(),
                e.getStream(),
                plain,
                0,
                0,
                0,
                null));
      }
    }

    /**
     * A resize; its sealed size shares the input counter with stdin: opened where we can, to keep
     * the count.
     */
    void resize(RecordedEvent e) {
      if (e.hasSealed() && e.getSealed().getCiphertext().size() > 0) {
        SealedPayload p = TtyFrames.fromProto(Stream.RESIZE, e.getSealed());
        PayloadCipher c = inputs.get(p.payloadKeyId());
        if (c != null) {
          c.open(p);
          if (!ordered(counters, p, e, out)) {
            return;
          }
        }
      }
      out.add(
          new Chunk(
              e.getSequence(),
              e.getTimeUnixMs(),
              e.getKind(),
              TtyStream.TTY_STREAM_UNSPECIFIED,
              new byte[0],
              e.getSize().getCols(),
              e.getSize().getRows(),
              0,
              null));
    }

    /** A control handover (daemon-signed): the next input key, kept when granted to this device. */
    void inputKey(RecordedEvent e) {
      InputKeyGrant g =
          InputKeyGrant.verify(
              e.getInputKeyGrant().getCanonicalJson().toByteArray(),
              e.getInputKeyGrant().getSignature().toByteArray(),
              hello.signingKey());
      // epoch 0: the opener's own input key re-wrapped for the policy's reviewers (before any
      // handover)
      boolean openersKey =
          g.epoch() == 0 && inputEpoch == 0 && g.inputKeyId().equals(proof.inputKeyId());
      if (!g.workspaceId().equals(workspaceId.toString())
          || !g.sessionId().equals(sessionId)
          || !outputKeyIds.contains(g.outputKeyId())
          || (g.epoch() <= inputEpoch && !openersKey)) {
        out.add(
            Chunk.note(e, "an input key grant out of place was ignored (epoch " + g.epoch() + ")"));
        return;
      }
      inputEpoch = g.epoch();
      KeyGrant mine = g.grantFor(myId);
      if (mine != null) {
        try {
          inputs.put(
              g.inputKeyId(),
              new PayloadCipher(
                  KeyRole.INPUT,
                  KeyGrants.unwrap(mine, proof.keyContext(), me),
                  g.inputKeyId(),
                  proof.keyContext()));
        } catch (CryptoException ex) {
          out.add(
              Chunk.note(
                  e,
                  "the input key grant of epoch "
                      + g.epoch()
                      + " does not open with this device's key"));
        }
      }
    }

    /**
     * A share: verified against the hello's server key, exactly the next epoch after the current
     * one, retiring the current key; a document out of place is reported and ignored (what follows
     * under its key then shows as output under an unknown key).
     */
    void outputKey(RecordedEvent e) {
      OutputKeyEpoch k =
          OutputKeyEpoch.verify(
              e.getOutputKeyEpoch().getCanonicalJson().toByteArray(),
              e.getOutputKeyEpoch().getSignature().toByteArray(),
              hello.signingKey());
      try {
        k.requireNextOf(outputContext, outputEpoch, outputKeyId);
      } catch (OutputKeyEpoch.NotNextException ex) {
        out.add(
            Chunk.note(
                e,
                "an output-key epoch out of place was ignored (epoch "
                    + k.epoch()
                    + ", "
                    + ex.mismatch().name().toLowerCase(java.util.Locale.ROOT)
                    + ")"));
        return;
      }
      outputContext = k.keyContext();
      outputEpoch = k.epoch();
      outputKeyId = k.outputKeyId();
      outputKeyIds.add(outputKeyId); // counters are per (key, sender): the new key's start at 0
      KeyGrant mine = k.grantFor(myId);
      output =
          mine == null
              ? null
              : new PayloadCipher(
                  KeyRole.OUTPUT,
                  KeyGrants.unwrap(mine, k.keyContext(), me),
                  k.outputKeyId(),
                  k.keyContext());
      out.add(
          Chunk.note(
              e,
              "output-key epoch "
                  + k.epoch()
                  + ": "
                  + k.keyContext().recipients().size()
                  + " recipient(s) from event "
                  + e.getSequence()
                  + " on"));
    }
  }

  /**
   * The receiver rules on a recorded payload: adds a note for a gap or a repeat; false = do not
   * render.
   */
  private static boolean ordered(
      PayloadCounters counters, SealedPayload p, RecordedEvent e, List<Chunk> out) {
    PayloadCounters.Verdict v = counters.observe(p);
    String what = p.stream().role() == KeyRole.OUTPUT ? "output" : "input";
    return switch (v.kind()) {
      case IN_ORDER -> true;
      case GAP -> {
        out.add(
            Chunk.note(
                e,
                "missing: "
                    + v.missing()
                    + " "
                    + what
                    + " frame(s) before event "
                    + e.getSequence()
                    + " (counter "
                    + v.expected()
                    + " to "
                    + (v.counter() - 1)
                    + ")"));
        yield true;
      }
      case REPEAT -> {
        out.add(
            Chunk.note(
                e,
                "repeated: "
                    + what
                    + " frame with counter "
                    + v.counter()
                    + " at event "
                    + e.getSequence()
                    + " (expected "
                    + v.expected()
                    + "), not rendered"));
        yield false;
      }
    };
  }
}
