// This browser's device identities, one per workspace, in IndexedDB (docs/web.md, "What the page
// holds"). The private keys are non-extractable CryptoKeys: IndexedDB keeps the key objects, and no
// script — this page's included — can read their bytes. Nothing here is a secret in the sense of
// a bearer credential: the API token is never stored.

const DB = 'umbra';
const STORE = 'devices';

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'workspaceId' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function run(mode, action) {
  return open().then(
    (db) =>
      new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const req = action(tx.objectStore(STORE));
        tx.oncomplete = () => {
          db.close();
          resolve(req.result);
        };
        tx.onerror = () => {
          db.close();
          reject(tx.error);
        };
      }),
  );
}

/** The device record of a workspace, or undefined. */
export function loadDevice(workspaceId) {
  return run('readonly', (s) => s.get(workspaceId));
}

export function saveDevice(record) {
  return run('readwrite', (s) => s.put(record));
}

export function deleteDevice(workspaceId) {
  return run('readwrite', (s) => s.delete(workspaceId));
}
