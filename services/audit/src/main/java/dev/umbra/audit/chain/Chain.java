package dev.umbra.audit.chain;

import dev.umbra.proto.audit.AuditEvent;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The per-workspace hash chain with the JDK's SHA-256 (no shared/crypto, DESIGN.md §1):
 *
 * <pre>
 * hash(n) = SHA-256( lp("umbra-audit-chain/v1") || hash(n-1) || u64be(n) || lp(canonical(event n)) )
 * hash(0) = 32 zero bytes
 * </pre>
 *
 * where n is the event's sequence number in its workspace, starting at 1.
 */
public final class Chain {
  public static final int HASH_BYTES = 32;
  static final String DOMAIN = "umbra-audit-chain/v1";
  private static final byte[] GENESIS = new byte[HASH_BYTES];

  private Chain() {}

  public static byte[] genesis() {
    return GENESIS.clone();
  }

  public static byte[] link(byte[] previous, long seq, AuditEvent event) {
    return link(previous, seq, CanonicalEvent.encode(event));
  }

  public static byte[] link(byte[] previous, long seq, byte[] canonical) {
    if (previous.length != HASH_BYTES || seq < 1) {
      throw new IllegalArgumentException("previous hash must be 32 bytes and seq at least 1");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(canonical.length + 80);
    CanonicalEvent.lp(out, DOMAIN);
    out.writeBytes(previous);
    CanonicalEvent.u64(out, seq);
    CanonicalEvent.lp(out, canonical);
    return sha256().digest(out.toByteArray());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }
}
