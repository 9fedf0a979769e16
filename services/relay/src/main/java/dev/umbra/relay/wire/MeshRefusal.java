package dev.umbra.relay.wire;

/**
 * Why a relay instance refused a mesh link's proof (docs/relay.md, "Mesh link authentication"): the
 * {@code reason} tag of {@code umbra_relay_mesh_refusals_total} and, prefixed {@code mesh_}, the
 * error code of the 401 answer to the upgrade.
 */
public enum MeshRefusal {
  /** No proof header (e.g. a relay of a version before proofs, which sent the credential). */
  MISSING,
  /** The proof header or the dialler's instance id is not in the one accepted form. */
  MALFORMED,
  /** The MAC does not verify: the dialler does not know the internal credential. */
  BAD_MAC,
  /** The proof was made for another instance than this one. */
  WRONG_TARGET,
  /** The proof's time is more than the window behind this instance's clock. */
  STALE,
  /** The proof's time is more than the window ahead of this instance's clock. */
  FUTURE,
  /** The proof's nonce was already used within the window. */
  REPLAYED,
  /** Too many fresh nonces to remember: refused rather than forgetting one early. */
  BUSY;

  /** The 401's message, followed by the tag. */
  public static final String MESSAGE = "for relay instances of this mesh only; proof refused: ";

  /** The metric tag ({@code bad_mac}, ...). */
  public String tag() {
    return name().toLowerCase();
  }
}
