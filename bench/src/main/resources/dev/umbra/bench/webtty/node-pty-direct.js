// WebTtyBench's node-pty baseline (docs/benchmarks.md, WebTTY): the PTY alone, no network, the
// same workloads as the bench's "direct PTY" path (Java), so the two are a ratio in one run.
//   node node-pty-direct.js bulk <file>        cat of <file>: {"bytes":..,"seconds":..,"cpuSeconds":..}
//                                              (cpuSeconds: node's own user + system CPU, not cat's)
//   node node-pty-direct.js rtt <count> <warmup> <command>
//                                              one byte written, its echo awaited: {"nanos":[..]}
// Output arrives as Buffers (encoding: null), node-pty's cheapest way: no UTF-8 decoding.
'use strict';
const pty = require('node-pty');

const opts = { name: 'xterm', cols: 80, rows: 24, cwd: '/tmp', env: process.env, encoding: null };
const [mode, ...args] = process.argv.slice(2);

if (mode === 'bulk') {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  const p = pty.spawn('cat', [args[0]], opts);
  p.onData((d) => { bytes += d.length; });
  p.onExit(() => {
    // node-pty reports the exit once the PTY's output has been read to its end
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0); // microseconds since cpu0
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    process.stdout.write(JSON.stringify({ bytes, seconds, cpuSeconds }) + '\n');
    process.exit(0);
  });
} else if (mode === 'rtt') {
  const count = parseInt(args[0], 10);
  const warmup = parseInt(args[1], 10);
  const p = pty.spawn('/bin/sh', ['-c', args[2]], opts);
  const nanos = [];
  let seen = '';
  let ready = false;
  let i = -warmup;
  let t0 = 0n;
  const next = () => {
    if (i >= count) {
      process.stdout.write(JSON.stringify({ nanos: nanos.map(Number) }) + '\n');
      p.kill();
      process.exit(0);
    }
    t0 = process.hrtime.bigint();
    p.write('x');
  };
  p.onData((d) => {
    if (!ready) {
      seen += d.toString('latin1');
      if (seen.includes('READY')) {
        ready = true;
        next();
      }
      return;
    }
    const dt = process.hrtime.bigint() - t0;
    if (i >= 0) {
      nanos.push(dt);
    }
    i++;
    next();
  });
} else {
  process.stderr.write('usage: node-pty-direct.js bulk <file> | rtt <count> <warmup> <command>\n');
  process.exit(2);
}
