#!/usr/bin/env node
// call.js: section 3 of BENCHMARKS.md. Runs one call between two peer
// processes that speak the JSON-lines signalling of docs/interop.md
// (`mxrtc peer`, bench/webrtcbin_peer call, tests/interop/chromium_peer.js),
// relays their signalling lines to each other, and measures each side's
// process tree from /proc while the call runs:
//
//   node bench/call.js [--seconds S] [--warmup W] [--exclude-root] [--log FILE] "CMD_A" "CMD_B"
//
// Each COMMAND is a shell command line (exec'd, so its pid is the side's
// root). The call is timed from the moment the answer has been relayed
// (signalling done): after S seconds a last sample is taken and both sides
// get {"type":"bye"}. --exclude-root leaves the root process out of the
// accounting (chromium_peer.js: the Node process that drives the browser
// through Playwright is harness, the browser's processes are the peer).
//
// Per side, one JSON line on stdout:
//   cpu_s            user+system CPU of the tree from its start to the end of
//                    the call (/proc/PID/stat utime+stime of every process
//                    seen in the tree, last value read; a process that exits
//                    between two samples loses at most one interval)
//   cpu_window_s     the same over [answer + W, answer + S]: media only
//   window_s         that window's length in seconds
//   hwm_rss_kb       sum over the tree's processes of VmHWM (the kernel's
//                    peak RSS per process; exact for a one-process peer, an
//                    upper bound for a tree whose processes peak apart)
//   peak_rss_kb      peak of the summed VmRSS over the samples
//   peak_pss_kb      peak of the summed Pss (smaps_rollup): shared pages
//                    split among the processes that map them
//   processes        processes seen in the tree
//   result           the side's own result line, if it wrote one
// Samples every 200 ms. Nothing is asserted: a measurement, not a test.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');

const o = { seconds: 60, warmup: 5, excludeRoot: false, log: null, cmds: [] };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') o.seconds = Number(argv[++i]);
    else if (a === '--warmup') o.warmup = Number(argv[++i]);
    else if (a === '--exclude-root') o.excludeRoot = true;
    else if (a === '--log') o.log = argv[++i];
    else if (a.startsWith('--')) { console.error(`call.js: unknown option ${a}`); process.exit(2); }
    else o.cmds.push(a);
  }
  if (o.cmds.length !== 2 || !(o.seconds > 0)) {
    console.error('usage: call.js [--seconds S] [--warmup W] [--exclude-root] [--log FILE] "CMD_A" "CMD_B"');
    process.exit(2);
  }
  if (o.warmup >= o.seconds) o.warmup = o.seconds / 3;
}
const logStream = o.log ? fs.createWriteStream(o.log) : process.stderr;
const diag = (s) => logStream.write(`call.js: ${s}\n`);
const TICK = 100; // USER_HZ: clock ticks per second in /proc/PID/stat (getconf CLK_TCK)
const PAGE_KB = 4;

// ---- /proc ---------------------------------------------------------------------
function readProcs() {
  const m = new Map(); // pid -> { ppid, ticks }
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let s;
    try { s = fs.readFileSync(`/proc/${d}/stat`, 'utf8'); } catch (e) { continue; }
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // After the comm: state(3) ppid(4) ... utime(14) stime(15), 1-based.
    m.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), rssPages: Number(f[21]) });
  }
  return m;
}
function tree(procs, root) {
  const kids = new Map();
  for (const [pid, p] of procs) {
    if (!kids.has(p.ppid)) kids.set(p.ppid, []);
    kids.get(p.ppid).push(pid);
  }
  const out = [];
  const todo = procs.has(root) ? [root] : [];
  while (todo.length) {
    const p = todo.pop();
    out.push(p);
    for (const k of kids.get(p) || []) todo.push(k);
  }
  return out;
}
function statusKb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch (e) { return 0; }
}
function pssKb(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch (e) { return 0; }
}

// ---- the two sides ---------------------------------------------------------------
const SIGNAL_TYPES = new Set(['offer', 'answer', 'candidate', 'end-of-candidates', 'bye']);
const sides = o.cmds.map((cmd, i) => {
  const name = i ? 'B' : 'A';
  const role = i ? '--answer' : '--offer';
  const child = spawn('sh', ['-c', `exec ${cmd} ${role} --name ${name}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const s = { name, child, pid: child.pid, seen: new Map(), hwm: new Map(), peakRss: 0, peakPss: 0,
              result: null, exited: false, buf: '' };
  child.stderr.on('data', (d) => logStream.write(d));
  child.on('exit', (code, sig) => { s.exited = true; diag(`${name} exited (${code === null ? sig : code})`); });
  child.stdin.on('error', () => {});
  return s;
});
let tAnswer = 0;
function send(s, obj) { if (!s.exited) s.child.stdin.write(JSON.stringify(obj) + '\n'); }
sides.forEach((s, i) => {
  const other = sides[1 - i];
  s.child.stdout.on('data', (d) => {
    s.buf += d.toString();
    let nl;
    while ((nl = s.buf.indexOf('\n')) >= 0) {
      const line = s.buf.slice(0, nl);
      s.buf = s.buf.slice(nl + 1);
      if (!line.trim()) continue;
      let m;
      try { m = JSON.parse(line); } catch (e) { diag(`${s.name}: not JSON: ${line.slice(0, 80)}`); continue; }
      if (m.type === 'result') { s.result = m; diag(`${s.name} result ${line}`); }
      if (SIGNAL_TYPES.has(m.type) && m.type !== 'bye') other.child.stdin.write(line + '\n');
      if (m.type === 'answer' && !tAnswer) { tAnswer = Date.now(); diag('answer relayed: the call is timed from here'); }
    }
  });
});

function sample() {
  const procs = readProcs();
  for (const s of sides) {
    let rss = 0, pss = 0;
    for (const pid of tree(procs, s.pid)) {
      if (o.excludeRoot && pid === s.pid) continue;
      s.seen.set(pid, procs.get(pid).ticks);
      s.hwm.set(pid, Math.max(s.hwm.get(pid) || 0, statusKb(pid, 'VmHWM')));
      rss += procs.get(pid).rssPages * PAGE_KB;
      pss += pssKb(pid);
    }
    s.peakRss = Math.max(s.peakRss, rss);
    s.peakPss = Math.max(s.peakPss, pss);
  }
}
const cpuOf = (s) => { let t = 0; for (const v of s.seen.values()) t += v; return t; };

let windowStart = null, windowT0 = 0;
const t0 = Date.now();
const timer = setInterval(() => {
  sample();
  const now = Date.now();
  if (!tAnswer && now - t0 > 90000) { diag('no answer within 90 s'); finish(1); return; }
  if (sides.some((s) => s.exited) && !finishing) { diag('a side exited during the call'); finish(1); return; }
  if (tAnswer && !windowStart && now - tAnswer >= o.warmup * 1000) {
    windowStart = sides.map((s) => new Map(s.seen));
    windowT0 = now;
  }
  if (tAnswer && now - tAnswer >= o.seconds * 1000) finish(0);
}, 200);

let finishing = false;
function finish(status) {
  if (finishing) return;
  finishing = true;
  clearInterval(timer);
  sample();
  const tEnd = Date.now();
  for (const [i, s] of sides.entries()) {
    let win = 0;
    if (windowStart) for (const [pid, v] of s.seen) win += v - (windowStart[i].get(pid) || 0);
    let hwm = 0;
    for (const v of s.hwm.values()) hwm += v;
    process.stdout.write(JSON.stringify({
      side: s.name, status, seconds: tAnswer ? (tEnd - tAnswer) / 1000 : 0,
      cpu_s: cpuOf(s) / TICK, cpu_window_s: win / TICK, window_s: windowStart ? (tEnd - windowT0) / 1000 : 0,
      hwm_rss_kb: hwm, peak_rss_kb: s.peakRss, peak_pss_kb: s.peakPss, processes: s.seen.size,
      result: s.result }) + '\n');
  }
  for (const s of sides) { send(s, { type: 'bye' }); try { s.child.stdin.end(); } catch (e) { /* gone */ } }
  // Each side hangs up on bye; anything still running after 15 s is ended.
  const killAt = Date.now() + 15000;
  const wait = setInterval(() => {
    if (sides.every((s) => s.exited)) { clearInterval(wait); process.exit(status); }
    if (Date.now() > killAt) {
      for (const s of sides) if (!s.exited) { diag(`${s.name} still running: SIGTERM`); s.child.kill('SIGTERM'); }
      clearInterval(wait);
      setTimeout(() => process.exit(status), 5000);
    }
  }, 100);
}
process.on('SIGINT', () => { for (const s of sides) if (!s.exited) s.child.kill('SIGTERM'); process.exit(130); });
process.on('SIGTERM', () => { for (const s of sides) if (!s.exited) s.child.kill('SIGTERM'); process.exit(143); });
