// The context vault in the page (docs/web.md "Vault", docs/device-trust.md "Context vault"), byte
// for byte as `umbra vault put|get|list`: a value is HPKE-sealed here (RFC 9180 base mode,
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM; js/hpke.js) to the encryption key of the
// current version of the keyset chain this browser verified from its pin, info = aad = the
// canonical JSON {"type":"umbra-vault-entry/v1","workspace_id","name","keyset_version"}; an entry is
// opened here with the workspace encryption key of its version, taken from this browser's keyset
// envelope for that one entry (checked against the chain, imported non-extractable, then dropped).
// The control plane stores and returns ciphertext; a ciphertext it moves to another name, or a key
// it swaps, does not open or does not verify.

import { paths } from './api.js';
import { fromBase64, fromHex, toBase64, utf8 } from './bytes.js';
import { canonicalize } from './canonical-json.js';
import { vaultKey } from './envelope.js';
import { open, seal } from './hpke.js';
import { el, fillRows, setText } from './view.js';

const DOMAIN = 'umbra-vault-entry/v1';
export const MAX_VALUE = 64 * 1024;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;

export class VaultError extends Error {}

let ctx = null; // {api, workspace, device, keyset}: keyset() is the chain verified from the pin

function $(id) {
  return document.getElementById(id);
}

/** Info and AAD of an entry (VaultCrypto.context). */
export function entryContext(workspaceId, name, version) {
  return utf8(canonicalize({ type: DOMAIN, workspace_id: workspaceId, name, keyset_version: version }));
}

/** The body of POST …/vault/entries: `value` sealed to the verified current keyset `current`. */
export async function sealEntry(workspaceId, name, current, value) {
  const info = entryContext(workspaceId, name, current.version);
  const { enc, ciphertext } = await seal(fromHex(current.encryption_public_key), info, info, value);
  return { name, keyset_version: current.version, enc: toBase64(enc), ciphertext: toBase64(ciphertext) };
}

/**
 * The value of `entry` (GET …/vault/entries/{id}) asked for by `name`, opened with `privateKey`, the
 * encryption key of the verified chain link `link` (the entry's version); anything else refuses.
 */
export async function openEntry(entry, workspaceId, name, privateKey, link) {
  if (!entry || entry.name !== name) {
    throw new VaultError('the control plane returned another entry than ' + name + ': refusing');
  }
  const info = entryContext(workspaceId, name, link.version);
  try {
    const enc = fromBase64(entry.enc);
    const ct = fromBase64(entry.ciphertext);
    return await open(enc, privateKey, fromHex(link.encryption_public_key), info, info, ct);
  } catch (e) {
    throw new VaultError('vault entry ' + name + ' does not decrypt (tampered, or sealed to another key)');
  }
}

export function enableVault(context) {
  ctx = context;
  $('vault').hidden = false;
}

export function disableVault() {
  ctx = null;
  hideValue();
  $('vault').hidden = true;
}

function error(e) {
  setText('vault-error', e ? e.message || String(e) : '');
}

/** Names, sizes and versions (`umbra vault list`); each row opens its entry. */
export async function listVault() {
  error(null);
  const items = (await ctx.api.get(paths.vaultEntries(ctx.workspace))).items || [];
  fillRows('vault-body', items, ['name', 'size', 'keyset_version', 'updated_at']);
  [...$('vault-body').children].forEach((tr, i) => {
    const name = String(items[i].name);
    const b = el('button', { type: 'button', 'data-vault-open': name }, 'Open');
    b.addEventListener('click', () => getVault(name).catch(error));
    tr.append(el('td', { 'data-col': 'actions' }, b));
  });
  return items;
}

/** Seals the typed value here and writes it under the typed name (`umbra vault put`). */
export async function putVault() {
  error(null);
  const name = $('vault-name').value;
  if (!NAME.test(name)) throw new VaultError('a name is 1 to 128 of A-Z a-z 0-9 . _ / - and starts with a letter or digit');
  const value = utf8($('vault-put-value').value);
  if (value.length > MAX_VALUE) throw new VaultError('a vault value is at most ' + MAX_VALUE + ' bytes');
  try {
    const keyset = await ctx.keyset(); // refuses a chain that does not verify from the pin
    await ctx.api.post(paths.vaultEntries(ctx.workspace), await sealEntry(ctx.workspace, name, keyset.current, value));
  } finally {
    value.fill(0);
  }
  $('vault-put-value').value = '';
  setText('vault-note', 'stored ' + name + ' (' + value.length + ' bytes, encrypted in this browser)');
  await listVault();
}

/** Fetches entry `name`'s ciphertext and opens it here (`umbra vault get`). */
export async function getVault(name) {
  error(null);
  hideValue();
  const items = (await ctx.api.get(paths.vaultEntries(ctx.workspace))).items || [];
  const meta = items.find((e) => e.name === name);
  if (!meta) throw new VaultError("no vault entry '" + name + "'");
  const entry = await ctx.api.get(paths.vaultEntry(ctx.workspace, meta.id));
  const keyset = await ctx.keyset();
  const v = entry && entry.keyset_version;
  if (!Number.isSafeInteger(v) || v < 1 || v > keyset.links.length) {
    throw new VaultError('vault entry ' + name + ' names a keyset version the workspace chain does not have: refusing');
  }
  const link = keyset.links[v - 1];
  const sealed = await ctx.api.get(paths.deviceEnvelope(ctx.workspace, ctx.device.deviceId));
  const key = await vaultKey(sealed, ctx.device, keyset.current, link);
  const value = await openEntry(entry, ctx.workspace, name, key, link);
  $('vault-value').value = new TextDecoder('utf-8').decode(value);
  value.fill(0);
  $('vault-value').dataset.name = name;
  $('vault-value').hidden = false;
  $('vault-hide').hidden = false;
  setText('vault-note', name + ', opened in this browser (keyset version ' + v + ')');
}

export function hideValue() {
  const v = $('vault-value');
  v.value = '';
  v.dataset.name = '';
  v.hidden = true;
  $('vault-hide').hidden = true;
}

/** The wiring of the vault section's controls; errors show in the section. */
export function wireVault() {
  $('vault-list').addEventListener('click', () => listVault().catch(error));
  $('vault-put').addEventListener('submit', (e) => {
    e.preventDefault();
    putVault().catch(error);
  });
  $('vault-get').addEventListener('submit', (e) => {
    e.preventDefault();
    getVault($('vault-get-name').value).catch(error);
  });
  $('vault-hide').addEventListener('click', () => hideValue());
}
