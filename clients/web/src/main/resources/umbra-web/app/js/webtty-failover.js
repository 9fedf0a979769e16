// Engine failover, the page's side (docs/webtty.md "Engine failover", docs/web.md "Terminal"); the
// same rules as the CLI's EngineFailover (clients/core). When the connection to the engine drops
// while the session is live (not after EXIT, CLOSE, ERROR or a detach), the page reconnects to the
// engine URL (a load balancer in front of the instances) every 100 ms for at most 30 s and re-joins
// the same session with the same key (ATTACH for the opener or a re-attached page, JOIN for a
// viewer) and the engine sequence of the last output it read. Keys, counters and the receiver
// rules are kept: nothing is derived again. The new home answers JOINED and then RESUMED with the
// daemon-signed resume document, verified here against the pinned server key (the hello's): this
// workspace, server and session, the output key we read under, our role exactly as JOINED gives it
// (and then our current input key), an epoch newer than any accepted; otherwise the page closes
// with resume_refused (resume_refused_replayed for an epoch not newer; a byte-identical copy of the
// document accepted last is the same home again after a dropped link, not a replay). Keystrokes typed meanwhile
// are held (at most 1024 frames); the last 256 stdin frames sent are kept and those the daemon has
// not seen (counter at or above the document's input_counter: the dead home swallowed them) are
// sent again byte for byte, then the held ones, so nothing typed is lost or runs twice.

import { equalBytes, toHex } from './bytes.js';
import { FrameType, Role } from './proto.js';
import { WebTtyError, signedDocument } from './webtty.js';

export const RESUME_TYPE = 'umbra-webtty-resume/v1';
export const GRACE_MS = 30_000;
export const RETRY_MS = 100;
export const ATTEMPT_MS = 400; // from the re-join frame to JOINED
export const CONNECT_MS = 2_000; // from a new WebSocket to its opening
export const MAX_HELD = 1024;
export const MAX_SENT = 256;
const MEMBERS = ['epoch', 'input_counter', 'output_counter', 'output_epoch', 'output_key_id', 'server_id', 'session_id', 'time_ms', 'type', 'workspace_id'];
const HEX16 = /^[0-9a-f]{32}$/;

/** Two SignedMessages byte for byte (canonical_json and signature), false when either is absent. */
function sameDocument(a, b) {
  return !!a && !!b && equalBytes(a.canonical_json || new Uint8Array(), b.canonical_json || new Uint8Array()) && equalBytes(a.signature || new Uint8Array(), b.signature || new Uint8Array());
}

function refused(message) {
  return new WebTtyError('resume_refused', 'resume document refused: ' + message);
}

/**
 * The members of a resume document (SignedMessage: canonical_json, signature) after its signature
 * verified under `serverSigningHex` (the pinned hello key): exactly the members of the type (the
 * controller and input key ids both present or both absent), ids as hex, counters as safe
 * integers, epoch at least 1, at most 16 KiB. Throws WebTtyError resume_refused otherwise.
 */
export async function verifyResume(m, serverSigningHex) {
  if (!m || !m.signature || m.signature.length !== 64) throw refused('no 64-byte signature');
  let d;
  try {
    d = await signedDocument(m, RESUME_TYPE, serverSigningHex);
  } catch (e) {
    throw refused(e.message);
  }
  const controller = Object.hasOwn(d, 'controller_key_id');
  const input = Object.hasOwn(d, 'input_key_id');
  const rest = Object.keys(d).filter((k) => k !== 'controller_key_id' && k !== 'input_key_id').sort();
  if (rest.join() !== MEMBERS.join() || controller !== input) throw refused('not exactly the members of ' + RESUME_TYPE);
  for (const k of ['server_id', 'session_id', 'workspace_id']) if (typeof d[k] !== 'string') throw refused(k + ' is not a string');
  for (const k of ['output_key_id', ...(controller ? ['controller_key_id', 'input_key_id'] : [])]) {
    if (typeof d[k] !== 'string' || !HEX16.test(d[k])) throw refused('a bad ' + k);
  }
  for (const k of ['epoch', 'input_counter', 'output_counter', 'output_epoch', 'time_ms']) {
    if (!Number.isSafeInteger(d[k]) || d[k] < 0) throw refused(k + ' out of range');
  }
  if (d.epoch < 1) throw refused('epoch 0');
  return d;
}

/**
 * Why a verified resume document `d` does not fit this participant, or null: `e` = {workspaceId,
 * serverId, sessionId, outputKeyId, ownKeyId, controllerByEngine (JOINED gave us control),
 * inputKeyId (ours, or null), lastEpoch (the newest accepted, 0 for none)}.
 */
export function resumeProblem(d, e) {
  const mine = d.controller_key_id === e.ownKeyId;
  if (
    d.workspace_id !== e.workspaceId ||
    d.server_id !== e.serverId ||
    d.session_id !== e.sessionId ||
    d.output_key_id !== e.outputKeyId ||
    mine !== e.controllerByEngine ||
    (mine && d.input_key_id !== e.inputKeyId)
  ) {
    return 'resume_refused';
  }
  return d.epoch > e.lastEpoch ? null : 'resume_refused_replayed';
}

/**
 * A session's failover state. `s` is its WebTtySession: renewToken() asks for a fresh session
 * token, reconnect() opens a new WebSocket that re-joins, sendNow(frame) writes past the hold, fail(reason, error) ends it, resumed(joined,
 * document, frame) takes the new participant id and shows the notice.
 */
export class EngineFailover {
  constructor(s) {
    this.s = s;
    this.sent = [];
    this.held = [];
    this.active = false;
    this.stopped = false;
    this.lastEpoch = 0;
    this.lastResume = null; // the document accepted last (SignedMessage)
    this.joined = null;
    this.attempt = 0;
    this.lastStamp = 0;
    this.lostAt = 0;
    this.counts = { engine_connections_lost: 0, engine_failovers: 0, failover_ms: 0, failover_retries: 0, failover_input_resent: 0, failover_input_dropped: 0, resume_refused: 0, resumed_unexpected: 0 };
  }

  /** No failover from now on (the page detaches or the session is over). */
  stop() {
    this.stopped = true;
  }

  /** The connection closed; `live` when the session was running. True when the failover takes over. */
  lost(live) {
    if (this.stopped || !live) return false;
    if (!this.active) {
      this.active = true;
      this.lostAt = performance.now();
      this.counts.engine_connections_lost++;
      this.s.renewToken(); // the one the session began with may have expired (10 minutes)
    }
    this.joined = null;
    if (performance.now() - this.lostAt > GRACE_MS) {
      this.active = false;
      this.s.fail('server_gone', new Error('no engine instance took the session over within 30 s'));
      return true;
    }
    setTimeout(() => this.s.reconnect(), RETRY_MS);
    return true;
  }

  /**
   * The stamp of the next re-join (time_unix_ms): `nowMs`, but above every one before, so the home
   * never lets an older attempt it receives late (one given up on, whose JOIN waited in an engine's
   * queue) take the place of the newer one that got in (docs/webtty.md "A late attempt").
   */
  stamp(nowMs) {
    this.lastStamp = Math.max((this.lastStamp || 0) + 1, nowMs);
    return this.lastStamp;
  }

  /** An attempt's WebSocket: closed (and retried) if it does not open, or JOINED does not come, in time. */
  attempted(ws, ms) {
    const mine = ++this.attempt;
    setTimeout(() => {
      if (this.active && !this.joined && this.attempt === mine && this.s.ws === ws) ws.close();
    }, ms);
  }

  /**
   * A frame the page writes: while the failover runs stdin and resizes are held and anything else
   * dropped (true: do not write it now); otherwise the recent stdin frames are kept for a resend.
   */
  hold(f) {
    const input = f.type === FrameType.DATA || (f.type === FrameType.RESIZE && f.sealed);
    if (!input) return this.active;
    if (this.active) {
      if (this.held.length >= MAX_HELD) this.counts.failover_input_dropped++;
      else this.held.push(f);
      return true;
    }
    this.sent.push(f);
    if (this.sent.length > MAX_SENT) this.sent.shift();
    return false;
  }

  /** A received frame; true when handled here (JOINED kept until RESUMED; ERROR, REFUSED, CLOSE retry). */
  async onFrame(f) {
    if (!this.active) {
      if (f.type !== FrameType.RESUMED) return false;
      this.counts.resumed_unexpected++; // no failover under way: nothing to verify, no notice
      return true;
    }
    if (f.type === FrameType.JOINED) this.joined = f;
    else if (f.type === FrameType.RESUMED && !f.resume && f.reason === 'edge_failover') this.edgeResumed(f);
    else if (f.type === FrameType.RESUMED) await this.resumed(f);
    else if (f.type === FrameType.ERROR || f.type === FrameType.REFUSED || f.type === FrameType.CLOSE) {
      this.counts.failover_retries++; // the daemon has not resumed the session there yet
      this.s.ws.close();
    }
    return true;
  }

  async resumed(f) {
    const s = this.s;
    if (!this.joined) return s.fail('resume_refused', new Error('RESUMED before JOINED'));
    if (sameDocument(f.resume, this.lastResume)) {
      // the very document we accepted, from the home that took over then and lived: not a replay (a
      // replay is a different or older document), the same home again after a dropped link; what
      // it did not take from us (above its last stdin frame, `sequence`) goes again
      if (this.livingHome((x) => (x.sequence || 0) > (f.sequence || 0), f)) this.counts.resumed_same_home = (this.counts.resumed_same_home || 0) + 1;
      return;
    }
    let d;
    try {
      d = await verifyResume(f.resume, s.serverSigningKey);
    } catch (e) {
      this.counts.resume_refused++;
      return s.fail('resume_refused', e);
    }
    const ownKeyId = toHex(s.myKeyId);
    const problem = resumeProblem(d, {
      workspaceId: s.o.workspaceId,
      serverId: s.serverId,
      sessionId: s.sessionId,
      outputKeyId: toHex(s.output.keyId),
      ownKeyId,
      controllerByEngine: this.joined.role === Role.CONTROLLER,
      inputKeyId: s.input ? toHex(s.input.cipher.keyId) : null,
      lastEpoch: this.lastEpoch,
    });
    if (problem) {
      this.counts.resume_refused++;
      return s.fail(problem, new Error('the resume document does not match this session, key or role'));
    }
    this.lastEpoch = d.epoch;
    this.lastResume = f.resume;
    this.active = false;
    const mine = d.controller_key_id === ownKeyId;
    if (!mine) s.input = null; // the daemon no longer takes our key: nothing to type with
    if (mine) {
      // what the daemon never got (the dead home swallowed it) goes again, byte for byte
      for (const x of this.sent) {
        if (equalBytes(x.sealed.payload_key_id, s.input.cipher.keyId) && (x.sealed.counter || 0) >= d.input_counter) {
          s.sendNow(x);
          this.counts.failover_input_resent++;
        }
      }
    }
    this.done(mine, d, f);
  }

  /**
   * Only our engine instance died; the session's home lived and took us back in our own place
   * (docs/webtty.md "An edge instance's death"): no document, nothing moved at the daemon. Control
   * only if we held it (an engine cannot give us an input key); the stdin frames after the last one
   * the home took (`sequence`) go again, then the held ones.
   */
  edgeResumed(f) {
    if (this.livingHome((x) => (x.sequence || 0) > (f.sequence || 0), f)) this.counts.edge_failovers = (this.counts.edge_failovers || 0) + 1; // the dead edge swallowed it
  }

  /**
   * Back at a home that lived, in the role JOINED gives: control only if we held it (an engine
   * cannot give us an input key), none if it was given away meanwhile; the kept stdin frames
   * `resend` picks go again (repeats the daemon already ran are dropped there), then the held ones.
   * False when it ended the session.
   */
  livingHome(resend, f) {
    const s = this.s;
    const control = !!this.joined && this.joined.role === Role.CONTROLLER;
    if (!this.joined || (control && !s.input)) {
      this.counts.resume_refused++;
      s.fail('resume_refused', new Error('failover: a role this page does not hold'));
      return false;
    }
    this.active = false;
    if (!control) s.input = null; // control was given away meanwhile
    for (const x of control ? this.sent : []) {
      if (resend(x)) {
        s.sendNow(x);
        this.counts.failover_input_resent++;
      }
    }
    this.done(control, null, f);
    return true;
  }

  /** The failover is over: the held keystrokes go (if we type), and the page hears the notice. */
  done(mine, d, f) {
    const s = this.s;
    this.sent = [];
    for (const h of this.held.splice(0)) {
      if (!mine) {
        this.counts.failover_input_dropped++;
        continue;
      }
      s.sendNow(h);
      this.sent.push(h);
    }
    this.counts.engine_failovers++;
    this.counts.failover_ms = Math.round(performance.now() - this.lostAt);
    s.resumed(this.joined, d, f);
  }
}
