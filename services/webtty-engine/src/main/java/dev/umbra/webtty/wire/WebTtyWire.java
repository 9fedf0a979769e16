package dev.umbra.webtty.wire;

import dev.umbra.proto.api.WebTtyPaths;
import dev.umbra.proto.webtty.Sealed;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Every wire constant of the WebTTY engine in one place (docs/webtty.md): endpoints, limits, the
 * only payload suite, which frame types each side may send, and the envelope checks applied to
 * every frame before it is routed. Layout: one WebSocket binary message holds one {@link
 * WebTtyFrame}; {@code Sealed.ciphertext} is never parsed.
 */
public final class WebTtyWire {
  public static final String SERVER_PATH = WebTtyPaths.SERVER;
  public static final String CLIENT_PATH = WebTtyPaths.CLIENT;
  public static final String RECORDINGS_PATH = WebTtyPaths.RECORDINGS;

  /** Live sessions a member may join (docs/webtty.md, "Viewers"). */
  public static final String SESSIONS_PATH = WebTtyPaths.SESSIONS;

  /** Largest WebSocket message (one frame) accepted; bigger ones close the connection. */
  public static final int MAX_FRAME_BYTES = 96 * 1024;

  /**
   * The largest WebSocket message read at all (a larger frame is read, counted as oversized and
   * refused; beyond this the socket is closed 1009).
   */
  public static final int MAX_MESSAGE_BYTES = 4 * MAX_FRAME_BYTES;

  /**
   * Bytes a WebSocket may have queued for writing before it counts as full (and the sender is held
   * back): a few full DATA frames, so frames keep flowing while the peer reads one. Netty's default
   * (64 KiB) is one frame: every frame was then a stop-and-wait, one thread wake-up per hop each.
   */
  public static final int WRITE_QUEUE_BYTES = 4 * MAX_FRAME_BYTES;

  /** Largest plaintext one DATA frame may carry. */
  public static final int MAX_PLAINTEXT_BYTES = 64 * 1024;

  /** Largest signed ServerHello/ClientProof document. */
  public static final int MAX_SIGNED_BYTES = 16 * 1024;

  public static final int MAX_GRANTS = 64;
  public static final int MAX_TERMINAL_SIDE = 10_000;
  public static final String PAYLOAD_SUITE = "aes-256-gcm";
  public static final String KEY_ENVELOPE_SUITE = "hpke-x25519-hkdf-sha256-aes-256-gcm";
  public static final int KEY_ID_BYTES = 16;
  public static final int PUBLIC_KEY_BYTES = 32;

  /** Payload format v2 key roles of a grant. */
  public static final Set<String> KEY_ROLES = Set.of("output", "input");

  public static final int NONCE_BYTES = 12;
  public static final int TAG_BYTES = 16;
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  public static final Set<WebTtyFrameType> FROM_SERVER =
      EnumSet.of(
          WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTER,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_SERVER_HELLO,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_READY,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_INPUT_KEY,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUME);

  public static final Set<WebTtyFrameType> FROM_CLIENT =
      EnumSet.of(
          WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_CLIENT_PROOF,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_RESIZE,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_GIVE,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_TAKE,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_SHARE,
          WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE);

  private WebTtyWire() {}

  public static boolean validId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /** Metric tag of a frame type: {@code data}, {@code open}, ... */
  public static String tag(WebTtyFrameType type) {
    return type == WebTtyFrameType.UNRECOGNIZED
        ? "unknown"
        : type.name().substring("WEBTTY_FRAME_TYPE_".length()).toLowerCase();
  }

  /**
   * Envelope checks of one inbound frame from a server ({@code fromServer}) or a client: the reason
   * to refuse it (and close the connection), or empty. Checks type, ids, sizes, the crypto metadata
   * of DATA (suite, key id and nonce lengths, ciphertext = plaintext + tag) and the stream
   * direction (stdin only from clients, stdout/stderr only from servers).
   */
  public static Optional<WebTtyReason> problem(WebTtyFrame f, boolean fromServer) {
    WebTtyFrameType type = f.getType();
    if (type == WebTtyFrameType.UNRECOGNIZED
        || !(fromServer ? FROM_SERVER : FROM_CLIENT).contains(type)) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_UNKNOWN_TYPE);
    }
    if (!f.getSessionId().isEmpty() && !validId(f.getSessionId())) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
    }
    if (f.getReason().length() > 64) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
    }
    switch (type) {
      case WEBTTY_FRAME_TYPE_DATA -> {
        if (!f.hasSealed()) {
          return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
        }
        TtyStream s = f.getStream();
        boolean ok =
            fromServer
                ? s == TtyStream.TTY_STREAM_STDOUT || s == TtyStream.TTY_STREAM_STDERR
                : s == TtyStream.TTY_STREAM_STDIN;
        if (!ok) {
          return Optional.of(WebTtyReason.WEBTTY_REASON_WRONG_STREAM);
        }
        return sealedProblem(f.getSealed());
      }
      case WEBTTY_FRAME_TYPE_OPEN, WEBTTY_FRAME_TYPE_REGISTER -> {
        if (!validId(f.getServerId())) {
          return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
        }
        return type == WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN ? sizeProblem(f) : Optional.empty();
      }
      case WEBTTY_FRAME_TYPE_RESIZE -> {
        Optional<WebTtyReason> p = sizeProblem(f);
        return p.isPresent() || !f.hasSealed() ? p : sealedProblem(f.getSealed());
      }
      case WEBTTY_FRAME_TYPE_INPUT_KEY -> {
        return inputKeyProblem(f);
      }
      case WEBTTY_FRAME_TYPE_OUTPUT_KEY -> {
        return outputKeyProblem(f);
      }
      case WEBTTY_FRAME_TYPE_SHARE -> {
        return signedProblem(
            f.hasShareRequest() ? f.getShareRequest().getCanonicalJson().size() : -1,
            f.getShareRequest().getSignature().size());
      }
      case WEBTTY_FRAME_TYPE_REFUSED -> {
        // from a server only: a refused SHARE, handed to the participant who sent it
        return validId(f.getParticipantId()) && !f.getReason().isEmpty()
            ? Optional.empty()
            : Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
      }
      case WEBTTY_FRAME_TYPE_RESUME -> {
        return resumeProblem(f);
      }
      case WEBTTY_FRAME_TYPE_SERVER_HELLO -> {
        return signedProblem(
            f.hasServerHello() ? f.getServerHello().getCanonicalJson().size() : -1,
            f.getServerHello().getSignature().size());
      }
      case WEBTTY_FRAME_TYPE_CLIENT_PROOF -> {
        return clientProofProblem(f);
      }
      case WEBTTY_FRAME_TYPE_JOIN, WEBTTY_FRAME_TYPE_ATTACH -> {
        boolean key = f.getPublicKey().isEmpty() || f.getPublicKey().size() == PUBLIC_KEY_BYTES;
        return key && f.getKeyId().size() == KEY_ID_BYTES && validId(f.getSessionId())
            ? Optional.empty()
            : Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
      }
      default -> {
        return Optional.empty();
      }
    }
  }

  /** RESUME: the signed resume document; with the latest share's signed epoch and its grants. */
  private static Optional<WebTtyReason> resumeProblem(WebTtyFrame f) {
    Optional<WebTtyReason> p =
        signedProblem(
            f.hasResume() ? f.getResume().getCanonicalJson().size() : -1,
            f.getResume().getSignature().size());
    if (p.isPresent() || !validId(f.getSessionId())) {
      return p.isPresent() ? p : Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
    }
    return f.hasOutputKeyEpoch() ? outputKeyProblem(f) : Optional.empty();
  }

  /** INPUT_KEY: a signed grant of the new input key, and the wrapped keys it names. */
  private static Optional<WebTtyReason> inputKeyProblem(WebTtyFrame f) {
    Optional<WebTtyReason> p =
        signedProblem(
            f.hasInputKeyGrant() ? f.getInputKeyGrant().getCanonicalJson().size() : -1,
            f.getInputKeyGrant().getSignature().size());
    if (p.isPresent()) {
      return p;
    }
    // no participant: the reviewers' grant of the opener's input key (epoch 0), only recorded
    if ((!f.getParticipantId().isEmpty() && !validId(f.getParticipantId()))
        || f.getGrantsCount() == 0
        || f.getGrantsCount() > MAX_GRANTS) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
    }
    return grantsProblem(f);
  }

  /** OUTPUT_KEY (a share): a signed epoch, its key context and grants. */
  private static Optional<WebTtyReason> outputKeyProblem(WebTtyFrame f) {
    Optional<WebTtyReason> p = keyContextProblem(f, f.hasOutputKeyEpoch(), f.getOutputKeyEpoch());
    return p.isPresent() ? p : grantsProblem(f);
  }

  /** CLIENT_PROOF: a signed proof, key context, grants, the opener's key id and public key. */
  private static Optional<WebTtyReason> clientProofProblem(WebTtyFrame f) {
    Optional<WebTtyReason> p = keyContextProblem(f, f.hasClientProof(), f.getClientProof());
    if (p.isPresent()) {
      return p;
    }
    if (f.getKeyId().size() != KEY_ID_BYTES
        || (!f.getPublicKey().isEmpty() && f.getPublicKey().size() != PUBLIC_KEY_BYTES)) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
    }
    return grantsProblem(f);
  }

  /**
   * A signed document that comes with a key context and 1..MAX_GRANTS grants (OUTPUT_KEY,
   * CLIENT_PROOF).
   */
  private static Optional<WebTtyReason> keyContextProblem(
      WebTtyFrame f, boolean present, SignedMessage document) {
    Optional<WebTtyReason> p =
        signedProblem(
            present ? document.getCanonicalJson().size() : -1, document.getSignature().size());
    if (p.isPresent()) {
      return p;
    }
    if (f.getGrantsCount() == 0
        || f.getGrantsCount() > MAX_GRANTS
        || f.getKeyContext().isEmpty()
        || f.getKeyContext().size() > MAX_SIGNED_BYTES) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
    }
    return Optional.empty();
  }

  /**
   * Grants (v2): our suites, a key role of "output" or "input", ids, enc and ciphertext of their
   * sizes.
   */
  private static Optional<WebTtyReason> grantsProblem(WebTtyFrame f) {
    for (var g : f.getGrantsList()) {
      if (!PAYLOAD_SUITE.equals(g.getPayloadSuite())
          || !KEY_ENVELOPE_SUITE.equals(g.getKeyEnvelopeSuite())) {
        return Optional.of(WebTtyReason.WEBTTY_REASON_UNKNOWN_SUITE);
      }
      if (!KEY_ROLES.contains(g.getKeyRole())) {
        return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
      }
      if (g.getRecipientKeyId().size() != KEY_ID_BYTES
          || g.getPayloadKeyId().size() != KEY_ID_BYTES
          || g.getEnc().size() != 32
          || g.getCiphertext().size() != 48) {
        return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
      }
    }
    return Optional.empty();
  }

  private static Optional<WebTtyReason> signedProblem(int jsonBytes, int sigBytes) {
    if (jsonBytes <= 0 || jsonBytes > MAX_SIGNED_BYTES || sigBytes != 64) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
    }
    return Optional.empty();
  }

  private static Optional<WebTtyReason> sizeProblem(WebTtyFrame f) {
    if (!f.hasSize() || !side(f.getSize().getCols()) || !side(f.getSize().getRows())) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_BAD_SIZE);
    }
    return Optional.empty();
  }

  /**
   * 1..MAX_TERMINAL_SIDE; the wire's uint32 reads negative from 2^31 on (such a size was admitted).
   */
  private static boolean side(int n) {
    return n >= 1 && n <= MAX_TERMINAL_SIDE;
  }

  /** Crypto metadata checks of one payload (the engine cannot check the tag). */
  public static Optional<WebTtyReason> sealedProblem(Sealed s) {
    if (!PAYLOAD_SUITE.equals(s.getPayloadSuite())) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_UNKNOWN_SUITE);
    }
    // a v1 payload has no sender key id: refused as malformed
    if (s.getPayloadKeyId().size() != KEY_ID_BYTES
        || s.getSenderKeyId().size() != KEY_ID_BYTES
        || s.getNonce().size() != NONCE_BYTES) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_MALFORMED);
    }
    // the wire's uint64 reads negative from 2^63 on: 2^64-16 with an empty ciphertext was admitted
    long plaintext = s.getPlaintextLength();
    if (plaintext < 0 || plaintext > MAX_PLAINTEXT_BYTES) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_OVERSIZED);
    }
    if (s.getCiphertext().size() != plaintext + TAG_BYTES) {
      return Optional.of(WebTtyReason.WEBTTY_REASON_TRUNCATED);
    }
    return Optional.empty();
  }
}
