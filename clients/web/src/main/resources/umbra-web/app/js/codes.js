// Verification codes (docs/crypto.md, docs/device-trust.md): the first 80 bits of
// SHA-256(lp("umbra-verification-code/v1") || canonical_json(payload)) as 16 Crockford base32
// characters in groups of four, e.g. 7K3M-Q9XD-2HBR-W4TE.

import { canonicalize } from './canonical-json.js';
import { concat, lp, sha256, utf8 } from './bytes.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DOMAIN = 'umbra-verification-code/v1';
const CHARS = 16;

export async function verificationCode(payload) {
  const digest = await sha256(concat(lp(DOMAIN), utf8(canonicalize(payload))));
  let code = '';
  for (let i = 0; i < CHARS; i++) {
    if (i > 0 && i % 4 === 0) code += '-';
    const bit = i * 5;
    const window = (digest[bit >> 3] << 8) | digest[(bit >> 3) + 1];
    code += ALPHABET[(window >>> (11 - (bit % 8))) & 0x1f];
  }
  return code;
}

/**
 * The payload both sides of a device approval turn into the code: the workspace, the device's
 * public keys and the workspace's root (version 1) signing key (TrustModel.codePayload).
 */
export function deviceCodePayload(workspaceId, ed25519PublicHex, p256PublicHex, rootSigningKeyHex) {
  return {
    type: 'umbra-device-keys/v1',
    workspace_id: workspaceId,
    workspace_signing_key: rootSigningKeyHex,
    ed25519_public_key: ed25519PublicHex,
    p256_public_key: p256PublicHex,
  };
}
