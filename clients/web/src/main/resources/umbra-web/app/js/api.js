// The control-plane API, same origin. The API token lives only in this closure (memory of this
// tab): never in a cookie, the URL, localStorage or sessionStorage; a reload signs out.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function connect(token) {
  async function call(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: Object.assign(
        { authorization: 'Bearer ' + token, accept: 'application/json' },
        body === undefined ? {} : { 'content-type': 'application/json' },
      ),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (e) {
      throw new ApiError(res.status, 'bad_response', 'the control plane answered something that is not JSON');
    }
    if (!res.ok) {
      const err = (json && json.error) || {};
      throw new ApiError(res.status, String(err.code || 'error'), String(err.message || 'HTTP ' + res.status));
    }
    return json;
  }

  /** Every item of a paged list ({items, next_cursor}). */
  async function all(path) {
    const items = [];
    let cursor = null;
    for (let pages = 0; pages < 100; pages++) {
      const sep = path.includes('?') ? '&' : '?';
      const page = await call('GET', path + sep + 'limit=200' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      items.push(...page.items);
      if (!page.next_cursor) return items;
      cursor = page.next_cursor;
    }
    return items;
  }

  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    put: (path, body) => call('PUT', path, body),
    del: (path) => call('DELETE', path),
    all,
  };
}

/** Control-plane paths (shared/proto ControlPlanePaths), each segment URL-encoded. */
export const paths = {
  me: '/v1/me',
  workspaces: '/v1/workspaces',
  machines: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/machines',
  members: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/members',
  keyset: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/keyset',
  devices: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/devices',
  device: (w, d) => '/v1/workspaces/' + encodeURIComponent(w) + '/devices/' + encodeURIComponent(d),
  deviceWebttyKey: (w, d) =>
    '/v1/workspaces/' + encodeURIComponent(w) + '/devices/' + encodeURIComponent(d) + '/webtty-key',
  vaultEntries: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/vault/entries',
  vaultEntry: (w, id) => '/v1/workspaces/' + encodeURIComponent(w) + '/vault/entries/' + encodeURIComponent(id),
  deviceEnvelope: (w, d) =>
    '/v1/workspaces/' + encodeURIComponent(w) + '/devices/' + encodeURIComponent(d) + '/envelope',
  plans: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/plans',
  plan: (w, id) => '/v1/workspaces/' + encodeURIComponent(w) + '/plans/' + encodeURIComponent(id),
  planVerdicts: (w, id) =>
    '/v1/workspaces/' + encodeURIComponent(w) + '/plans/' + encodeURIComponent(id) + '/verdicts',
  inbox: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/inbox',
  inboxDecision: (w, id) =>
    '/v1/workspaces/' + encodeURIComponent(w) + '/inbox/' + encodeURIComponent(id) + '/decision',
  runs: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/runs',
  run: (w, id) => '/v1/workspaces/' + encodeURIComponent(w) + '/runs/' + encodeURIComponent(id),
  teams: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/teams',
  planVersions: (w, id) => paths.plan(w, id) + '/versions',
  planComments: (w, id) => paths.plan(w, id) + '/comments',
  planShare: (w, id, team) => paths.plan(w, id) + '/shares/' + encodeURIComponent(team),
  workflows: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/workflows',
  workflow: (w, name) => '/v1/workspaces/' + encodeURIComponent(w) + '/workflows/' + encodeURIComponent(name),
  workflowProposals: (w) => '/v1/workspaces/' + encodeURIComponent(w) + '/workflow-proposals',
};
