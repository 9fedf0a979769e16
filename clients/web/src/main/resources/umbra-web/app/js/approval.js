// Approving and rejecting a pending device from the page (docs/web.md, "Approve and reject"), as
// `umbra devices approve <id> --code <code>` and `umbra devices reject <id>` do: the request's
// self-signature and ids are checked, the code is recomputed here from the keys the request names
// and the pinned root key and compared with the one the human typed (a differing code is refused
// and nothing is sent), then the credential is signed with the workspace signing key and the
// keyset bundle sealed to the new device's P-256 key — both opened from this browser's own
// envelope for this one approval and dropped after (js/envelope.js `approvalKeys`).

import { equalBytes, utf8 } from './bytes.js';
import { deviceCodePayload, verificationCode } from './codes.js';
import { signFields } from './device.js';
import { approvalKeys } from './envelope.js';
import { paths } from './api.js';
import { verifyText } from './signatures.js';
import { TrustError, parseSigned } from './trust.js';

export const CODE_MISMATCH =
  "the verification code does not match this device's keys: do not approve it (it may not be the device you think)";

/** A typed code as VerificationCodes.matches reads it: case, dashes and spaces ignored, I and L are 1, O is 0. */
export function normalizeCode(code) {
  return String(code ?? '')
    .toUpperCase()
    .replace(/[- ]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
}

/** True when the typed code is `code` (compared without an early exit). */
export function sameCode(typed, code) {
  return equalBytes(utf8(normalizeCode(typed)), utf8(normalizeCode(code)));
}

/** A device row's request with its self-signature and ids checked (WorkspaceProtection.verifiedRequest). */
export async function verifiedRequest(row, workspaceId) {
  const r = parseSigned(row.request, 'umbra-device-request/v1');
  if (!(await verifyText(r.ed25519_public_key, row.request.payload, row.request.signature))) {
    throw new TrustError('the device request does not verify: refusing');
  }
  if (r.workspace_id !== workspaceId || r.device_id !== row.id) {
    throw new TrustError('the device request is for another workspace or device: refusing');
  }
  if (typeof r.name !== 'string' || typeof r.kind !== 'string' || !/^04[0-9a-f]{128}$/.test(r.p256_public_key)) {
    throw new TrustError('the device request is malformed: refusing');
  }
  return r;
}

/**
 * Approves pending device `id` after the human compared codes. `ctx` is {api, workspace, device,
 * keyset}: `keyset()` gives the chain verified from this browser's pin. Returns the device row.
 */
export async function approveDevice(ctx, id, typedCode) {
  const request = await verifiedRequest(await ctx.api.get(paths.device(ctx.workspace, id)), ctx.workspace);
  const keyset = await ctx.keyset();
  const code = await verificationCode(
    deviceCodePayload(ctx.workspace, request.ed25519_public_key, request.p256_public_key, keyset.root),
  );
  if (!sameCode(typedCode, code)) throw new TrustError(CODE_MISMATCH);
  const sealed = await ctx.api.get(paths.deviceEnvelope(ctx.workspace, ctx.device.deviceId));
  const { signingKey, envelope } = await approvalKeys(
    sealed,
    ctx.device,
    keyset.current,
    request.p256_public_key,
    request.device_id,
  );
  const credential = await signFields(signingKey, {
    type: 'umbra-device-credential/v1',
    workspace_id: ctx.workspace,
    device_id: request.device_id,
    keyset_version: keyset.current.version,
    ed25519_public_key: request.ed25519_public_key,
    p256_public_key: request.p256_public_key,
    name: request.name,
    kind: request.kind,
    issued_at: new Date().toISOString(),
  });
  return ctx.api.post(paths.device(ctx.workspace, id) + '/approval', { credential, envelope });
}

/** Refuses a pending request (`umbra devices reject`): nothing is signed, the control plane deletes it. */
export function rejectDevice(ctx, id) {
  return ctx.api.post(paths.device(ctx.workspace, id) + '/rejection');
}
