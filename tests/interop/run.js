#!/usr/bin/env node
// run.js: the interop driver. Starts the two sides of each call as separate
// processes (any command that speaks the JSON-lines protocol of
// docs/interop.md: chromium_peer.js, `mxrtc peer`), relays their signalling
// lines to each other, and checks each side's result against what the other
// side was told to send.
//
//   node run.js [options] "COMMAND_A" "COMMAND_B"
//     --cases 1,2,3,4,5a,5b   which cases (default: all)
//     --netns auto|on|off     run the sides in network namespaces joined by a
//                             veth pair (default auto: on, and exit 77 =
//                             skipped when not root; off: this machine's
//                             interfaces)
//     --timeout S             per case (default 60)
//     --coturn-env FILE       without namespaces: use this coturn (tests/turn/
//                             coturn.sh's env file) instead of starting one
//     --hz-tolerance P        received tone within P % of the sent one (default 2)
//     --rgb-tolerance N       received colour within N per channel (default 8)
//
// Each COMMAND is a shell command line; the case's options (--offer/--answer,
// --audio-hz, --video-rgb, --renegotiate, --relay-only --turn --turn-user
// --turn-pass, --mdns, --hangup, --name) are appended to it. The last line
// printed is `N passed, M failed`; the exit status is 0 only if M is 0.
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { NetnsPair, readEnvFile } = require('./netns');

// ---- options ------------------------------------------------------------------
const ALL_CASES = ['1', '2', '3', '4', '5a', '5b'];
const o = { cases: ALL_CASES, netns: 'auto', timeout: 60, coturnEnv: null, hzTol: 0.02, rgbTol: 8, cmds: [] };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--cases') o.cases = argv[++i].split(',');
    else if (a === '--netns') o.netns = argv[++i];
    else if (a === '--timeout') o.timeout = Number(argv[++i]);
    else if (a === '--coturn-env') o.coturnEnv = argv[++i];
    else if (a === '--hz-tolerance') o.hzTol = Number(argv[++i]) / 100;
    else if (a === '--rgb-tolerance') o.rgbTol = Number(argv[++i]);
    else if (a.startsWith('--')) { console.error(`run.js: unknown option ${a}`); process.exit(2); }
    else o.cmds.push(a);
  }
  if (o.cmds.length !== 2) {
    console.error('usage: run.js [--cases LIST] [--netns auto|on|off] [--timeout S] [--coturn-env FILE] "COMMAND_A" "COMMAND_B"');
    process.exit(2);
  }
  for (const c of o.cases) if (!ALL_CASES.includes(c)) { console.error(`run.js: unknown case ${c}`); process.exit(2); }
}
const isRoot = process.getuid && process.getuid() === 0;
const useNetns = o.netns === 'on' || (o.netns === 'auto' && isRoot);
if (o.netns !== 'off' && !isRoot) {
  // Without namespaces the browsers would use this machine's real interface
  // (and send mDNS multicast on it): only when asked for with --netns off.
  console.error('run.js: network namespaces need root; run as root, or pass --netns off to use this machine\'s interfaces');
  process.exit(77); // CTest: skipped (SKIP_RETURN_CODE)
}

const say = (s) => process.stdout.write(s + '\n');
const diag = (s) => process.stderr.write(`run.js: ${s}\n`);
const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

// ---- network namespaces (netns.js) ---------------------------------------------------
const pair = new NetnsPair('mxi', diag);
const NS = { a: pair.a, b: pair.b };
function netnsUp() { pair.up(); }
function netnsDown() { pair.down(); }

// ---- coturn (case 3) ------------------------------------------------------------------
const COTURN_SH = path.resolve(__dirname, '../turn/coturn.sh');
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mxrtc-interop-'));
let coturnDir = null;
let coturnNs = null;
function coturnStart(ns) {
  if (!useNetns && o.coturnEnv) return readEnvFile(o.coturnEnv);
  coturnDir = path.join(tmpDir, 'coturn');
  coturnNs = ns;
  const cmd = ns ? ['ip', ['netns', 'exec', ns, COTURN_SH, 'start', coturnDir]] : [COTURN_SH, ['start', coturnDir]];
  execFileSync(cmd[0], cmd[1], { stdio: ['ignore', 'ignore', 'inherit'] });
  return readEnvFile(path.join(coturnDir, 'coturn.env'));
}
function coturnStop() {
  if (!coturnDir) return;
  const cmd = coturnNs ? ['ip', ['netns', 'exec', coturnNs, COTURN_SH, 'stop', coturnDir]] : [COTURN_SH, ['stop', coturnDir]];
  try { execFileSync(cmd[0], cmd[1], { stdio: ['ignore', 'ignore', 'inherit'] }); } catch (e) { diag(`coturn stop: ${e.message}`); }
  coturnDir = null;
}

// ---- one side --------------------------------------------------------------------------
const SIGNAL_TYPES = new Set(['offer', 'answer', 'candidate', 'end-of-candidates', 'bye']);
class Side {
  constructor(label, cmd, args, ns) {
    this.label = label;
    this.cmdline = `${cmd} ${args.map(shq).join(' ')}`;
    this.ns = ns;
    this.ready = false;
    this.result = null;
    this.exit = null;
    this.sentBye = false;
    this.gotBye = false;
    this.offers = 0;
    this.candidates = [];
    this.waiters = [];
  }
  start(onMsg) {
    const argv = this.ns ? ['ip', ['netns', 'exec', this.ns, 'sh', '-c', this.cmdline]] : ['sh', ['-c', this.cmdline]];
    diag(`${this.label}: ${this.ns ? `[netns ${this.ns}] ` : ''}${this.cmdline}`);
    // Its own process group, so a timeout can end the whole tree (browser included).
    this.p = spawn(argv[0], argv[1], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.p.stdin.on('error', () => {});
    readline.createInterface({ input: this.p.stderr }).on('line', (l) => process.stderr.write(`  ${this.label}| ${l}\n`));
    readline.createInterface({ input: this.p.stdout }).on('line', (l) => {
      if (!l.trim()) return;
      let m;
      try { m = JSON.parse(l); } catch (e) { diag(`${this.label}: malformed line ignored: ${l.slice(0, 100)}`); return; }
      if (!m || typeof m.type !== 'string') { diag(`${this.label}: line without type ignored`); return; }
      onMsg(this, m);
      this.notify();
    });
    this.p.on('exit', (code, sig) => { this.exit = code !== null ? code : 128 + (os.constants.signals[sig] || 0); this.notify(); });
  }
  send(m) {
    if (this.exit === null && this.p.stdin.writable) this.p.stdin.write(JSON.stringify(m) + '\n');
  }
  notify() { this.waiters.splice(0).forEach((f) => f()); }
  kill() {
    if (this.exit !== null || !this.p) return;
    try { process.kill(-this.p.pid, 'SIGKILL'); } catch (e) { /* gone */ }
  }
}
// Resolves when cond() holds; rejects at the deadline.
function waitFor(sides, cond, deadline, what) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (cond()) return resolve();
      if (Date.now() >= deadline) return reject(new Error(`timeout waiting for ${what}`));
      for (const s of sides) s.waiters.push(check);
      clearTimeout(check.t);
      check.t = setTimeout(check, Math.max(10, Math.min(500, deadline - Date.now())));
    };
    check();
  });
}

// ---- the cases -----------------------------------------------------------------------
// Distinct tones and colours per side, so a side that hears itself (or
// nothing) fails. The colours avoid 0 and 255 so errors of either sign show.
const MEDIA = {
  A: { hz: 1000, rgb: [200, 40, 60] },
  B: { hz: 660, rgb: [40, 110, 210] },
};
function caseDef(id) {
  const base = (side) => ['--audio-hz', MEDIA[side].hz, '--video-rgb', MEDIA[side].rgb.join(','), '--name', side];
  switch (id) {
    case '1': return { title: 'A offers, B answers (audio+video, mDNS .local candidates)', offerer: 'A',
      args: { A: [...base('A'), '--offer', '--mdns', 'on'], B: [...base('B'), '--answer', '--mdns', 'on'] },
      video: true, mdns: true };
    case '2': return { title: 'B offers, A answers (audio+video, raw IP candidates)', offerer: 'B',
      args: { A: [...base('A'), '--answer', '--mdns', 'off'], B: [...base('B'), '--offer', '--mdns', 'off'] },
      video: true };
    case '3': return { title: 'relay-only through coturn (A over UDP, B over TCP)', offerer: 'A', relay: true, video: true };
    case '4': return { title: 'renegotiation: A upgrades a voice call to video', offerer: 'A', renegotiate: true,
      args: { A: [...base('A'), '--offer', '--renegotiate', '--mdns', 'on'], B: [...base('B'), '--answer', '--mdns', 'on'] },
      video: true };
    case '5a': case '5b': {
      const h = id === '5a' ? 'A' : 'B';
      const audio = (side) => ['--audio-hz', MEDIA[side].hz, '--name', side];
      return { title: `hang-up from ${h} (audio call)`, offerer: 'A', hangup: h,
        args: { A: [...audio('A'), '--offer', '--mdns', 'on', ...(h === 'A' ? ['--hangup'] : [])],
                B: [...audio('B'), '--answer', '--mdns', 'on', ...(h === 'B' ? ['--hangup'] : [])] } };
    }
    default: throw new Error(id);
  }
}

function within(got, want, rel) { return typeof got === 'number' && Math.abs(got - want) <= rel * want; }

async function runCase(id) {
  const c = caseDef(id);
  const fails = [];
  let nsOf = { A: useNetns ? NS.a : null, B: useNetns ? NS.b : null };
  if (c.relay) {
    // Both sides beside coturn (which only listens on 127.0.0.1): in
    // namespace A, or here without namespaces.
    nsOf = { A: nsOf.A, B: nsOf.A };
    const env = coturnStart(nsOf.A);
    const url = (t) => `turn:${env.MXRTC_COTURN_HOST}:${env.MXRTC_COTURN_LT_PORT}?transport=${t}`;
    const relayArgs = (side, t) => ['--audio-hz', MEDIA[side].hz, '--video-rgb', MEDIA[side].rgb.join(','),
      '--name', side, '--relay-only', '--turn', url(t), '--turn-user', env.MXRTC_COTURN_LT_USER,
      '--turn-pass', env.MXRTC_COTURN_LT_PASSWORD, '--mdns', 'on'];
    c.args = { A: [...relayArgs('A', 'udp'), '--offer'], B: [...relayArgs('B', 'tcp'), '--answer'] };
  }
  const sides = {
    A: new Side('A', o.cmds[0], c.args.A, nsOf.A),
    B: new Side('B', o.cmds[1], c.args.B, nsOf.B),
  };
  const other = (s) => (s.label === 'A' ? sides.B : sides.A);
  const held = { A: null, B: null }; // a bye held until the other side has its result
  const all = [sides.A, sides.B];
  const deadline = Date.now() + o.timeout * 1000;
  const onMsg = (s, m) => {
    if (process.env.MXRTC_INTEROP_VERBOSE) diag(`${s.label} -> ${JSON.stringify(m).slice(0, 160)}`);
    if (m.type === 'ready') { s.ready = true; return; }
    if (m.type === 'result') { s.result = m; if (held[other(s).label]) { other(s).sentBye = true; s.send(held[other(s).label]); held[other(s).label] = null; } return; }
    if (!SIGNAL_TYPES.has(m.type)) return; // unknown types are ignored
    if (m.type === 'offer') s.offers++;
    if (m.type === 'candidate') s.candidates.push(String(m.candidate));
    if (m.type === 'bye') {
      s.sentBye = true;
      other(s).gotBye = true;
      // A hang-up before the other side has measured would make its result
      // meaningless: hold the bye until that result is in.
      if (!other(s).result && other(s).exit === null) { held[s.label] = m; s.sentBye = false; return; }
    }
    other(s).send(m);
  };
  let tStart = Date.now();
  try {
    // The answerer first, so the offer is made when both can take it and
    // the offer-to-audio time is the call's, not a browser's start-up.
    const first = c.offerer === 'A' ? sides.B : sides.A;
    const second = other(first);
    first.start(onMsg);
    await waitFor(all, () => first.ready || first.exit !== null, deadline, `${first.label} ready`);
    if (!first.ready) throw new Error(`${first.label} exited (${first.exit}) before ready`);
    second.start(onMsg);
    tStart = Date.now();
    // A side that dies without a result ends the case at once.
    const died = () => all.find((s) => s.exit !== null && !s.result);
    await waitFor(all, () => died() || (sides.A.result && sides.B.result), deadline, 'both results');
    if (died()) throw new Error(`${died().label} exited (${died().exit}) without a result`);
    if (!c.hangup) { sides.A.send({ type: 'bye' }); sides.B.send({ type: 'bye' }); }
    // Exits within 15 s of the hang-up.
    const exitDeadline = Math.min(deadline, Date.now() + 15000);
    await waitFor(all, () => sides.A.exit !== null && sides.B.exit !== null, exitDeadline, 'both sides to exit');
  } catch (e) {
    fails.push(e.message);
  } finally {
    for (const s of all) s.kill();
    if (c.relay) coturnStop();
  }
  // ---- verdict -------------------------------------------------------------------------
  for (const s of all) {
    const peer = other(s);
    const r = s.result;
    if (!s.p) { fails.push(`${s.label} was not started`); continue; }
    if (s.exit !== 0) fails.push(`${s.label} exit status ${s.exit === null ? '(still running: killed)' : s.exit}`);
    if (!r) { fails.push(`${s.label}: no result`); continue; }
    const want = MEDIA[peer.label];
    if (!within(r.audio_hz, want.hz, o.hzTol)) fails.push(`${s.label} heard ${r.audio_hz} Hz, ${peer.label} sent ${want.hz} Hz (±${+(o.hzTol * 100).toPrecision(3)}%)`);
    if (typeof r.first_audio_ms !== 'number') fails.push(`${s.label}: no first_audio_ms`);
    if (!(r.packets_received > 0)) fails.push(`${s.label}: no packets received`);
    if (c.video) {
      const g = r.video_rgb;
      if (!Array.isArray(g) || g.length !== 3 || g.some((x, i) => Math.abs(x - want.rgb[i]) > o.rgbTol))
        fails.push(`${s.label} saw colour ${JSON.stringify(g)}, ${peer.label} sent ${JSON.stringify(want.rgb)} (±${o.rgbTol})`);
      if ('frames_decoded' in r && !(r.frames_decoded > 0)) fails.push(`${s.label}: no frames decoded`);
    }
  }
  if (c.mdns && !all.some((s) => s.candidates.some((x) => /^candidate:\S+ \d+ \S+ \d+ \S+\.local /i.test(x))))
    fails.push('no .local (mDNS) candidate was signalled');
  if (c.relay) {
    for (const s of all) {
      const nonRelay = s.candidates.filter((x) => !/ typ relay( |$)/.test(x));
      if (nonRelay.length) fails.push(`${s.label} signalled non-relay candidates (${nonRelay[0]})`);
      if (!s.candidates.length) fails.push(`${s.label} signalled no relay candidate`);
    }
  }
  if (c.renegotiate && sides[c.offerer].offers < 2) fails.push(`${c.offerer} made ${sides[c.offerer].offers} offer(s), no renegotiation`);
  if (c.hangup) {
    const h = sides[c.hangup];
    if (!h.sentBye) fails.push(`${h.label} did not send bye`);
  }
  // ---- report ----------------------------------------------------------------------------
  const desc = (s) => {
    const r = s.result || {};
    const want = MEDIA[other(s).label];
    const parts = [`first audio ${r.first_audio_ms ?? '-'} ms`];
    if (typeof r.audio_hz === 'number') parts.push(`tone ${r.audio_hz} Hz (${(((r.audio_hz - want.hz) / want.hz) * 100).toFixed(3)}%)`);
    if (Array.isArray(r.video_rgb)) parts.push(`colour [${r.video_rgb}] (max err ${Math.max(...r.video_rgb.map((x, i) => Math.abs(x - want.rgb[i])))})`);
    if (r.packets_received !== undefined) parts.push(`${r.packets_received} pkts`);
    if (r.frames_decoded) parts.push(`${r.frames_decoded} frames`);
    if (r.pair) parts.push(r.pair);
    return `${s.label}: ${parts.join(', ')}`;
  };
  const ok = fails.length === 0;
  say(`case ${id}: ${c.title}: ${ok ? 'PASS' : 'FAIL'} (${((Date.now() - tStart) / 1000).toFixed(1)} s)`);
  say(`  offer to first decoded audio: A ${sides.A.result?.first_audio_ms ?? '-'} ms, B ${sides.B.result?.first_audio_ms ?? '-'} ms`);
  say(`  ${desc(sides.A)}`);
  say(`  ${desc(sides.B)}`);
  for (const f of fails) say(`  failure: ${f}`);
  return ok;
}

async function main() {
  let passed = 0, failed = 0;
  if (useNetns) {
    try { netnsUp(); } catch (e) { say(`network namespaces: ${e.message}`); netnsDown(); process.exit(1); }
    say(`network namespaces ${NS.a} (198.51.100.1, fd10::1) and ${NS.b} (198.51.100.2, fd10::2), veth`);
  } else {
    say('no network namespaces (not root, or --netns off): the sides use this machine\'s interfaces');
  }
  for (const id of o.cases) {
    let ok = false;
    try { ok = await runCase(id); } catch (e) { say(`case ${id}: FAIL: ${e.message}`); }
    if (ok) passed++; else failed++;
  }
  say(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function cleanup() {
  coturnStop();
  netnsDown();
  try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch (e) { /* ignore */ }
}
process.on('SIGINT', () => { cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });
main().then((code) => { cleanup(); process.exit(code); },
            (e) => { diag(e.stack || String(e)); cleanup(); process.exit(1); });
