package dev.umbra.client.channel;

import dev.umbra.crypto.kdf.HkdfSha256;
import dev.umbra.crypto.noise.NoiseProtocol;
import dev.umbra.proto.api.RelayPaths;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Constants of the channel layer above the relay (docs/relay.md): Noise suites, window, ack and
 * resume timing, chunk size. Shared by the daemon (responder) and the CLI (initiator).
 */
public final class ChannelProtocol {
  /**
   * Largest plaintext put in one Noise transport message (well under 65535 - 16, leaving room for
   * the protobuf).
   */
  public static final int CHUNK_BYTES = 32 * 1024;

  /**
   * Ciphertext bytes a side may have sent and not had acknowledged; the writer pauses beyond it.
   */
  public static final int WINDOW_BYTES = 2 * 1024 * 1024;

  /**
   * An explicit ACK goes out once this many bytes arrived unacknowledged (else after {@link
   * #ACK_DELAY}).
   */
  public static final int ACK_EVERY_BYTES = WINDOW_BYTES / 4;

  public static final Duration ACK_DELAY = Duration.ofMillis(5);

  /** With unacknowledged data and no progress for this long, a side asks the peer to resume. */
  public static final Duration RESEND_AFTER = Duration.ofMillis(1500);

  /**
   * Each side sends at least an ACK this often, so a silent command does not look like a vanished
   * peer.
   */
  public static final Duration KEEPALIVE = Duration.ofSeconds(15);

  /**
   * The client gives up on a machine not heard from for this long (the daemon keeps sessions
   * longer).
   */
  public static final Duration CLIENT_SILENCE_LIMIT = Duration.ofSeconds(90);

  /** How long the client waits for the daemon's handshake answer and for the start result. */
  public static final Duration OPEN_TIMEOUT = Duration.ofSeconds(15);

  /**
   * RESUME reasons: a plain RESUME asks the peer to resend and answer with its own; these do not
   * answer.
   */
  public static final String RESUME_REPLY = "reply";

  public static final String RESUME_GAP = "gap";

  private ChannelProtocol() {}

  public static NoiseProtocol suite(byte[] psk) {
    return psk == null
        ? NoiseProtocol.IK_25519_AESGCM_SHA256
        : NoiseProtocol.IKPSK2_25519_AESGCM_SHA256;
  }

  /**
   * The 32-byte Noise PSK of a workspace that requires one, from the PSK text both the daemon
   * (given at pairing) and the member know: HKDF-SHA256(ikm = psk text, salt = workspace id, info =
   * "umbra-relay-psk/v1").
   */
  public static byte[] psk(String workspaceId, String pskText) {
    return HkdfSha256.derive(
        pskText.getBytes(StandardCharsets.UTF_8),
        workspaceId.getBytes(StandardCharsets.UTF_8),
        "umbra-relay-psk/v1".getBytes(StandardCharsets.UTF_8),
        32);
  }

  /**
   * The relay's WebSocket URL from its service URL (http becomes ws, https wss): {@code
   * <base>/v1/relay}.
   */
  public static URI relayWebSocketUrl(String serviceUrl) {
    String base = serviceUrl.replaceAll("/+$", "");
    if (base.startsWith("https://")) {
      base = "wss://" + base.substring(8);
    } else if (base.startsWith("http://")) {
      base = "ws://" + base.substring(7);
    }
    return URI.create(base + RelayPaths.RELAY);
  }
}
