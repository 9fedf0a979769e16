// Live receiving with the reconnect rules of docs/messaging.md (clients/core LiveReceiver): the
// socket (`/messages/live`, the session token offered as a subprotocol since a page cannot set
// Authorization on a WebSocket; the control plane selects `umbra.messages.v1` and never echoes
// the token), a fetch of every pending page on `ready`, a ping every 30 s; while the socket is not
// live, a fetch every 15 s; reconnect attempts 1 s after a failure, doubling to 30 s (reset by
// `ready`), an attempt with no answer in 10 s abandoned; a live socket that drops: fetch at once,
// then poll; one the server closes with 1013 (it may have missed a push): fetch at once and
// reconnect within a second; one closed with 4401 (its session token expired): fetch at once and
// reconnect at once with a renewed token. A gap over 120 s between local timer ticks (the machine slept) and the tab coming
// back to the foreground (`visibilitychange`) both force a reconnect and a fetch.

export const PROTOCOL = 'umbra.messages.v1';
/** Close code of a live socket that may have missed a push: fetch now, reconnect (docs/messaging.md). */
export const TRY_AGAIN = 1013;
/** Close code of a live socket whose session token expired: renew it, fetch now, reconnect at once. */
export const EXPIRED = 4401;

/** A close as a status shows it: its code and, if any, the server's reason (printable, short). */
function closeNote(event) {
  const reason = String(event.reason || '').replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
  return (event.code || 'closed') + (reason ? ' ' + reason : '');
}
export const TOKEN_PROTOCOL = 'umbra.bearer.';
export const RULES = Object.freeze({
  pollMs: 15000,
  pingMs: 30000,
  attemptMs: 10000,
  firstBackoffMs: 1000,
  maxBackoffMs: 30000,
  tickMs: 5000,
  wakeGapMs: 120000,
});

export class LiveReceiver {
  /**
   * `o`: {url, token: async (renew) => string, fetch: async () => void, onFrame: async (message)
   * => void, onFrames?: async ([message]) => void (a `messages` frame; else onFrame each), onState:
   * (state, note) => void}; states `connecting`, `live`, `polling`, `stopped`.
   */
  constructor(o, rules = RULES) {
    this.o = o;
    this.r = rules;
    this.ws = null;
    this.live = false;
    this.stopped = false;
    this.backoff = rules.firstBackoffMs;
    this.timers = {};
    this.lastTick = Date.now();
    this.onVisible = () => {
      if (document.visibilityState === 'visible') this.wake('back in the foreground');
    };
  }

  start() {
    document.addEventListener('visibilitychange', this.onVisible);
    this.timers.poll = setInterval(() => {
      if (!this.live) this.fetch('socket down: polling every 15 s');
    }, this.r.pollMs);
    this.timers.tick = setInterval(() => this.tick(Date.now()), this.r.tickMs);
    this.connect();
    this.fetch();
  }

  stop() {
    this.stopped = true;
    document.removeEventListener('visibilitychange', this.onVisible);
    Object.values(this.timers).forEach((t) => {
      clearInterval(t);
      clearTimeout(t);
    });
    this.drop();
    this.state('stopped');
  }

  state(s, note) {
    this.o.onState(s, note || '');
  }

  /** A timer tick: a gap over 120 s since the last one means the machine slept. */
  tick(now) {
    const gap = now - this.lastTick;
    this.lastTick = now;
    if (gap > this.r.wakeGapMs) this.wake('timer gap of ' + Math.round(gap / 1000) + ' s (sleep?): reconnecting');
  }

  /** Reconnect now (dropping a socket that may be dead) and fetch what is pending. */
  wake(note) {
    if (this.stopped) return;
    this.drop();
    this.backoff = this.r.firstBackoffMs;
    clearTimeout(this.timers.retry);
    this.state('connecting', note);
    this.connect();
    this.fetch();
  }

  fetch(note) {
    if (note) this.state(this.live ? 'live' : 'polling', note);
    return this.o.fetch().catch((e) => this.state(this.live ? 'live' : 'polling', 'fetch failed: ' + e.message));
  }

  drop() {
    const ws = this.ws;
    this.ws = null;
    this.live = false;
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.attempt);
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close();
    }
  }

  async connect() {
    if (this.stopped || this.ws) return;
    let token;
    try {
      token = await this.o.token(this.renew === true); // a refused upgrade may be an expired token
      this.renew = false;
    } catch (e) {
      this.retry('cannot connect (' + e.message + ')');
      return;
    }
    if (this.stopped || this.ws) return;
    let ws;
    try {
      ws = new WebSocket(this.o.url, [PROTOCOL, TOKEN_PROTOCOL + token]);
    } catch (e) {
      this.retry('cannot connect (' + e.message + ')');
      return;
    }
    this.ws = ws;
    this.state('connecting');
    this.timers.attempt = setTimeout(() => {
      if (this.ws === ws && !this.live) {
        this.drop();
        this.retry('cannot connect (no answer in 10 s)');
      }
    }, this.r.attemptMs);
    ws.onmessage = (event) => this.frame(ws, event.data);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      const wasLive = this.live;
      this.drop();
      if (wasLive) this.fetch();
      else this.renew = true;
      if (event.code === 4403) {
        this.stop();
        this.state('stopped', 'revoked');
        return;
      }
      if (event.code === EXPIRED && wasLive) {
        // the server closes a socket when its session token expires: renew it and reconnect now
        this.renew = true;
        this.backoff = this.r.firstBackoffMs;
        this.state('polling', 'session expired (' + closeNote(event) + '): fetching pending, reconnecting');
        clearTimeout(this.timers.retry);
        this.timers.retry = setTimeout(() => this.connect(), 0);
        return;
      }
      if (event.code === TRY_AGAIN && wasLive) {
        // the server may have missed a push (its push read failed, or its bus subscription was
        // interrupted): fetch at once (done above) and reconnect within a second, jittered
        this.backoff = this.r.firstBackoffMs;
        this.state('polling', 'live delivery interrupted (' + closeNote(event) + '): fetching pending, reconnecting');
        clearTimeout(this.timers.retry);
        this.timers.retry = setTimeout(() => this.connect(), Math.floor(Math.random() * this.r.firstBackoffMs));
        return;
      }
      this.retry((wasLive ? 'disconnected' : 'cannot connect') + ' (' + closeNote(event) + ')');
    };
  }

  retry(note) {
    if (this.stopped) return;
    this.state('polling', note);
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.r.maxBackoffMs);
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => this.connect(), wait);
  }

  async frame(ws, data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch (e) {
      return; // not ours to show
    }
    if (f.type === 'ready') {
      clearTimeout(this.timers.attempt);
      this.live = true;
      this.backoff = this.r.firstBackoffMs;
      this.state('live', 'connected');
      this.timers.ping = setInterval(() => ws.send(JSON.stringify({ type: 'ping' })), this.r.pingMs);
      await this.fetch();
    } else if (f.type === 'message' && f.message) {
      await this.o.onFrame(f.message).catch((e) => this.failed(e));
    } else if (f.type === 'messages' && Array.isArray(f.messages)) {
      // several copies a frame (the socket asked for them with ?frames=batch)
      const list = f.messages.filter((m) => m && typeof m === 'object');
      const all = this.o.onFrames ? this.o.onFrames(list) : list.reduce((p, m) => p.then(() => this.o.onFrame(m)), Promise.resolve());
      await all.catch((e) => this.failed(e));
    }
  }

  failed(e) {
    this.state('live', 'a pushed message failed here (' + e.message + '): the next fetch takes it again');
  }
}
