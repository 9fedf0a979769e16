package dev.umbra.kit.auth;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.secret.MeshProofs;

/**
 * The relay mesh's proof key (docs/relay.md, "Mesh link authentication"): derived from the internal
 * credential for the mesh alone ({@link MeshProofs}, shared/crypto), so relay instances prove they
 * know the credential without sending it. Here in the kit so the relay, which holds no key of the
 * platform's crypto and does not reach shared/crypto, uses it through the credential it already
 * has. The key never leaves this object.
 */
public final class MeshProofKey {
  /** Length of a proof's random nonce. */
  public static final int NONCE_BYTES = CryptoConstants.RELAY_MESH_NONCE_LENGTH;

  /** Length of a proof's MAC. */
  public static final int MAC_BYTES = CryptoConstants.RELAY_MESH_MAC_LENGTH;

  /** How far a proof's time may be from the acceptor's clock, either way. */
  public static final long WINDOW_SECONDS = CryptoConstants.RELAY_MESH_PROOF_WINDOW_SECONDS;

  private final byte[] key;

  private MeshProofKey(byte[] key) {
    this.key = key;
  }

  public static MeshProofKey of(InternalCredential credential) {
    return new MeshProofKey(MeshProofs.key(credential.value()));
  }

  /** The MAC of a proof by {@code dialler} for {@code target} at {@code unixSeconds}. */
  public byte[] mac(String dialler, String target, long unixSeconds, byte[] nonce) {
    return MeshProofs.mac(key, dialler, target, unixSeconds, nonce);
  }

  /** Whether {@code given} is the MAC of those fields (constant time). */
  public boolean verify(
      String dialler, String target, long unixSeconds, byte[] nonce, byte[] given) {
    return MeshProofs.verify(key, dialler, target, unixSeconds, nonce, given);
  }

  /** A fresh random nonce. */
  public static byte[] nonce() {
    return MeshProofs.nonce();
  }

  @Override
  public String toString() {
    return "MeshProofKey[redacted]";
  }
}
