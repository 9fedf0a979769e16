package dev.umbra.relay.routing;

import static dev.umbra.kit.auth.MeshProofKey.MAC_BYTES;
import static dev.umbra.kit.auth.MeshProofKey.NONCE_BYTES;
import static dev.umbra.kit.auth.MeshProofKey.WINDOW_SECONDS;

import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.auth.MeshProofKey;
import dev.umbra.relay.wire.MeshRefusal;
import dev.umbra.relay.wire.RelayWire;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Mesh link authentication (docs/relay.md, "Mesh link authentication"): a dialling instance never
 * sends the internal credential; it sends {@link #HEADER} {@code
 * v1.<target>.<unix_seconds>.<nonce>.<mac>} ({@link MeshProofKey}). The acceptor checks the MAC
 * first (constant time), then that the proof names it, is within the window of its clock (whose
 * lower edge never moves back) and that its nonce is fresh. A proof captured by whatever a forged
 * presence entry pointed a dialler at opens no link to a real instance: it names another target,
 * goes stale, and is single-use.
 */
public final class MeshAuth {
  /** The upgrade header carrying the proof. */
  public static final String HEADER = "X-Umbra-Mesh-Proof";

  static final String VERSION = "v1";

  /** Longest header accepted: "v1", a 64-character id, 18 digits, the nonce, the MAC, 4 dots. */
  static final int MAX_HEADER_CHARS = 2 + RelayWire.MAX_INSTANCE_CHARS + 18 + 22 + 43 + 4;

  private static final int NONCE_CHARS = 22;
  private static final int MAC_CHARS = 43;

  /** Nonces remembered at most; a proof that would need more is refused ({@code busy}). */
  static final int MAX_NONCES = 16_384;

  /** A proof header's fields, as parsed (not yet verified). */
  record Proof(String target, long unixSeconds, byte[] nonce, byte[] mac) {}

  private final MeshProofKey key;
  private final String instance;
  private final Clock clock;
  private final int maxNonces;

  /** Nonces seen (hex) and the second after which their proof would be stale anyway. */
  private final Map<String, Long> seen = new LinkedHashMap<>();

  /**
   * The highest second the clock read: the window's lower edge never moves back, so a clock that
   * steps back does not readmit a proof whose nonce was forgotten as stale.
   */
  private long newest = Long.MIN_VALUE;

  public MeshAuth(InternalCredential credential, String instance, Clock clock) {
    this(credential, instance, clock, MAX_NONCES);
  }

  MeshAuth(InternalCredential credential, String instance, Clock clock, int maxNonces) {
    this.key = MeshProofKey.of(credential);
    this.instance = instance;
    this.clock = clock;
    this.maxNonces = maxNonces;
  }

  /** The header value with which this instance opens a link to {@code target}. */
  public String proof(String target) {
    long now = clock.instant().getEpochSecond();
    byte[] nonce = MeshProofKey.nonce();
    return encode(target, now, nonce, key.mac(instance, target, now, nonce));
  }

  /** The header value of a proof's fields (the one spelling {@link #parse} accepts). */
  public static String encode(String target, long unixSeconds, byte[] nonce, byte[] mac) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return String.join(
        ".",
        VERSION,
        target,
        Long.toString(unixSeconds),
        b64.encodeToString(nonce),
        b64.encodeToString(mac));
  }

  /**
   * Why the link {@code dialler} opens with proof {@code header} is refused; null when it is
   * admitted (its nonce is then used up). Nothing but these two headers is looked at before.
   */
  public synchronized MeshRefusal check(String dialler, String header) {
    if (header == null) {
      return MeshRefusal.MISSING;
    }
    Proof p = parse(header);
    if (p == null || !RelayWire.validInstance(dialler)) {
      return MeshRefusal.MALFORMED;
    }
    if (!key.verify(dialler, p.target(), p.unixSeconds(), p.nonce(), p.mac())) {
      return MeshRefusal.BAD_MAC;
    }
    if (!instance.equals(p.target())) {
      return MeshRefusal.WRONG_TARGET;
    }
    long now = clock.instant().getEpochSecond();
    newest = Math.max(newest, now);
    if (p.unixSeconds() < newest - WINDOW_SECONDS) {
      return MeshRefusal.STALE;
    }
    if (p.unixSeconds() > now + WINDOW_SECONDS) {
      return MeshRefusal.FUTURE;
    }
    return remember(p, newest);
  }

  private MeshRefusal remember(Proof p, long now) {
    String nonce = HexFormat.of().formatHex(p.nonce());
    Long until = seen.get(nonce);
    if (until != null && until >= now) {
      return MeshRefusal.REPLAYED;
    }
    if (seen.size() >= maxNonces) {
      forgetExpired(now);
      if (seen.size() >= maxNonces) {
        return MeshRefusal.BUSY;
      }
    }
    seen.put(nonce, p.unixSeconds() + WINDOW_SECONDS);
    return null;
  }

  private void forgetExpired(long now) {
    for (Iterator<Long> it = seen.values().iterator(); it.hasNext(); ) {
      if (it.next() < now) {
        it.remove();
      }
    }
  }

  /** Nonces remembered now (tests). */
  synchronized int remembered() {
    return seen.size();
  }

  /**
   * The fields of a proof header in its one accepted form, or null: at most {@link
   * #MAX_HEADER_CHARS}, five dot-separated parts, {@code v1}, an instance id, decimal seconds (no
   * sign, no leading zero), a 16-byte nonce and a 32-byte MAC in unpadded base64url.
   */
  static Proof parse(String header) {
    if (header.length() > MAX_HEADER_CHARS) {
      return null;
    }
    String[] parts = header.split("\\.", -1);
    if (parts.length != 5 || !VERSION.equals(parts[0]) || !RelayWire.validInstance(parts[1])) {
      return null;
    }
    long seconds = seconds(parts[2]);
    byte[] nonce = b64(parts[3], NONCE_CHARS, NONCE_BYTES);
    byte[] mac = b64(parts[4], MAC_CHARS, MAC_BYTES);
    if (seconds < 0 || nonce == null || mac == null) {
      return null;
    }
    return new Proof(parts[1], seconds, nonce, mac);
  }

  private static long seconds(String s) {
    if (s.isEmpty() || s.length() > 18 || (s.length() > 1 && s.charAt(0) == '0')) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private static byte[] b64(String s, int chars, int bytes) {
    if (s.length() != chars) {
      return null;
    }
    byte[] out;
    try {
      out = Base64.getUrlDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
    // one encoding per value: a nonce cannot be replayed under another spelling
    boolean canonical =
        out.length == bytes
            && Base64.getUrlEncoder().withoutPadding().encodeToString(out).equals(s);
    return canonical ? out : null;
  }
}
