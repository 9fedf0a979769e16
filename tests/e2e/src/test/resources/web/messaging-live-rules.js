// The page's live receiver (js/msg-live.js) with its rules scaled down (polling every 200 ms
// instead of 15 s, retries from 50 ms): against a socket path the control plane does not serve it
// falls back to polling and keeps fetching; a timer gap over the wake limit (the machine slept)
// and `visibilitychange` to visible each force a reconnect and a fetch. Returns what it saw.
async () => {
  const live = await import('/app/js/msg-live.js');
  const rules = { pollMs: 200, pingMs: 30000, attemptMs: 2000, firstBackoffMs: 50, maxBackoffMs: 400, tickMs: 3600000, wakeGapMs: 120000 };
  let fetches = 0;
  const states = [];
  const until = async (what, ok) => {
    const deadline = Date.now() + 10000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for ' + what + ': ' + JSON.stringify(states));
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const r = new live.LiveReceiver(
    {
      url: location.origin.replace(/^http/, 'ws') + '/v1/no-such-socket',
      token: async () => 'not-a-token',
      fetch: async () => {
        fetches++;
      },
      onFrame: async () => {},
      onState: (s, note) => states.push(s + (note ? ': ' + note : '')),
    },
    rules,
  );
  r.start();
  await until('polling after a refused socket', () => states.some((s) => s.startsWith('polling: cannot connect')));
  const before = fetches;
  await until('three polls', () => fetches >= before + 3);
  const polled = fetches - before;
  const beforeWake = fetches;
  r.tick(r.lastTick + 121000);
  const wakeState = states[states.length - 1];
  await until('a fetch after the wake', () => fetches > beforeWake);
  const beforeVisible = fetches;
  const visibility = document.visibilityState;
  document.dispatchEvent(new Event('visibilitychange'));
  await until('a fetch on foregrounding', () => fetches > beforeVisible);
  const visibleState = states.filter((s) => s.includes('foreground')).length;
  const quietBefore = fetches;
  r.tick(r.lastTick + 60000); // a gap under the limit changes nothing
  const quiet = states[states.length - 1];
  r.stop();
  return { polled, wakeState, visibility, visibleState, quietFetches: fetches - quietBefore, quiet, states };
};
