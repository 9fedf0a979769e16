package dev.umbra.crypto.noise;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.Bytes;

/**
 * The Noise prologue of Umbra's relay channel (DESIGN.md §4), binding protocol version, workspace
 * and target: {@code lp("umbra-relay-noise/v1") lp(workspace_id) lp(target_id)}, where the version
 * lives in the domain string. Both sides must compute it from what they expect, never from what the
 * peer claims.
 */
public final class RelayPrologue {
  private RelayPrologue() {}

  public static byte[] encode(String workspaceId, String targetId) {
    if (workspaceId == null || workspaceId.isEmpty() || targetId == null || targetId.isEmpty()) {
      throw new MalformedInputException("relay prologue needs a workspace id and a target id");
    }
    return Bytes.lengthPrefixed(
        Bytes.utf8(CryptoConstants.NOISE_PROLOGUE_DOMAIN),
        Bytes.utf8(workspaceId),
        Bytes.utf8(targetId));
  }
}
