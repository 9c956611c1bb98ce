#!/usr/bin/env node
// matrix_run.js: the Matrix interop driver (issue 7, docs/interop.md
// "Matrix calls"). Side A (the side under test: `mxrtc call|answer` or
// Element) and side B (Element: matrix-js-sdk's MatrixCall in headless
// Chromium, element/element_peer.js) call each other through a local
// Synapse, in a fresh room per scenario; both sides have the same command
// line and JSON-lines output (/work/briefs/call_tool_contract.md).
//
//   node matrix_run.js [--a mxrtc|element] [--b element] [options]
//     --scenarios 1,2,...      which (default all: 1 2 3a 3b 4a 4b 5 6 7 8 9 10;
//                              "3" means 3a and 3b, "4" 4a and 4b)
//     --mxrtc PATH             the mxrtc binary (default $MXRTC_TOOL or build/tools/mxrtc)
//     --synapse-env FILE       tests/synapse/synapse.sh's env file (default
//                              $MXRTC_SYNAPSE_ENV; without either, the driver
//                              starts coturn and Synapse itself and stops them)
//     --netns auto|on|off      sides in two network namespaces (default auto:
//                              on as root, else exit 77 = skipped; off: this
//                              machine's interfaces, and no scenario 10 for
//                              Element as A)
//     --timeout S              per scenario (default 60)
//     --json-summary FILE      per-scenario verdicts and times, machine-readable
//     --hz-tolerance P         received tone within P % (default 2)
//     --rgb-tolerance N        received colour within N per channel (default 8)
//
// Prints one line per scenario (PASS/FAIL, the reason, invite -> first
// audio per side), then `N passed, M failed`; exits 0 only if M is 0.
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { NetnsPair, readEnvFile } = require('./netns');
const { serveUnixToTcp } = require('./unix_bridge');
const { build } = require('./element/build');

const REPO = path.resolve(__dirname, '../..');
const ALL = ['1', '2', '3a', '3b', '4a', '4b', '5', '6', '7', '8', '9', '10'];

// ---- options -------------------------------------------------------------------
const o = { a: 'element', b: 'element', scenarios: ALL, mxrtc: process.env.MXRTC_TOOL || path.join(REPO, 'build/tools/mxrtc'),
            synapseEnv: process.env.MXRTC_SYNAPSE_ENV || null, netns: 'auto', timeout: 60, jsonSummary: null,
            hzTol: 0.02, rgbTol: 8 };
{
  const argv = process.argv.slice(2);
  const usage = (m) => { console.error(`matrix_run.js: ${m}\nusage: matrix_run.js [--a mxrtc|element] [--b element] [--scenarios LIST] [--mxrtc PATH] [--synapse-env FILE] [--netns auto|on|off] [--timeout S] [--json-summary FILE]`); process.exit(2); };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--a') o.a = val();
    else if (a === '--b') o.b = val();
    else if (a === '--scenarios') o.scenarios = val().split(',').flatMap((s) => (s === '3' || s === '4' ? [`${s}a`, `${s}b`] : [s]));
    else if (a === '--mxrtc') o.mxrtc = path.resolve(val());
    else if (a === '--synapse-env') o.synapseEnv = val();
    else if (a === '--netns') o.netns = val();
    else if (a === '--timeout') o.timeout = Number(val());
    else if (a === '--json-summary') o.jsonSummary = val();
    else if (a === '--hz-tolerance') o.hzTol = Number(val()) / 100;
    else if (a === '--rgb-tolerance') o.rgbTol = Number(val());
    else usage(`unknown option ${a}`);
  }
  if (!['mxrtc', 'element'].includes(o.a)) usage('--a mxrtc|element');
  if (o.b !== 'element') usage('--b element (B is always Element)');
  for (const s of o.scenarios) if (!ALL.includes(s)) usage(`unknown scenario ${s}`);
  if (!['auto', 'on', 'off'].includes(o.netns)) usage('--netns auto|on|off');
}
const say = (s) => process.stdout.write(s + '\n');
const diag = (s) => process.stderr.write(`matrix_run: ${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

const isRoot = process.getuid && process.getuid() === 0;
const useNetns = o.netns === 'on' || (o.netns === 'auto' && isRoot);
if (o.netns !== 'off' && !isRoot) {
  console.error('matrix_run.js: network namespaces need root; run as root, or pass --netns off to use this machine\'s interfaces');
  process.exit(77);
}
if (o.a === 'mxrtc' && !fs.existsSync(o.mxrtc)) {
  console.error(`matrix_run.js: no mxrtc binary at ${o.mxrtc} (--mxrtc PATH or MXRTC_TOOL)`);
  process.exit(1);
}

// ---- servers: Synapse (+ coturn for its /voip/turnServer) ----------------------------
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mxrtc-matrix-'));
let ownServers = null;
function startServers() {
  const dir = path.join(tmpDir, 'servers');
  fs.mkdirSync(dir);
  const coturn = path.join(dir, 'coturn'), synapse = path.join(dir, 'synapse');
  ownServers = { coturn, synapse };
  diag('starting coturn and Synapse (tests/turn/coturn.sh, tests/synapse/synapse.sh)');
  execFileSync(path.join(REPO, 'tests/turn/coturn.sh'), ['start', coturn], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync(path.join(REPO, 'tests/synapse/synapse.sh'), ['start', synapse],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MXRTC_COTURN_ENV: path.join(coturn, 'coturn.env') } });
  return path.join(synapse, 'synapse.env');
}
function stopServers() {
  if (!ownServers) return;
  const s = ownServers;
  ownServers = null;
  try { execFileSync(path.join(REPO, 'tests/synapse/synapse.sh'), ['stop', s.synapse], { stdio: 'ignore' }); } catch (e) { diag(`synapse stop: ${e.message}`); }
  try { execFileSync(path.join(REPO, 'tests/turn/coturn.sh'), ['stop', s.coturn], { stdio: 'ignore' }); } catch (e) { diag(`coturn stop: ${e.message}`); }
}

// ---- the network ----------------------------------------------------------------------
// A in namespace a, B in namespace b (veth, netns.js), except scenario 9
// (relay only): both in the root namespace beside the coturn that Synapse's
// /voip/turnServer names (127.0.0.1), so only relayed traffic, on loopback.
// The namespaces reach Synapse (127.0.0.1 of the root namespace) through
// unix_bridge.js: the same URL works everywhere.
const pair = new NetnsPair('mxe', diag);
let bridgeSrv = null;
const bridgeProcs = [];
async function networkUp(hsUrl) {
  if (!useNetns) return;
  pair.up();
  const u = new URL(hsUrl);
  const sock = path.join(tmpDir, 'synapse.sock');
  bridgeSrv = await serveUnixToTcp(sock, u.hostname, Number(u.port));
  for (const ns of [pair.a, pair.b]) {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(__dirname, 'unix_bridge.js'), `${u.hostname}:${u.port}`, sock],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    bridgeProcs.push(p);
    await new Promise((resolve, reject) => {
      readline.createInterface({ input: p.stdout }).on('line', (l) => { if (l === 'listening') resolve(); });
      p.on('exit', (c) => reject(new Error(`unix_bridge in ${ns} exited (${c})`)));
    });
  }
}
function networkDown() {
  for (const p of bridgeProcs.splice(0)) { try { p.kill('SIGKILL'); } catch (e) { /* gone */ } }
  if (bridgeSrv) { bridgeSrv.close(); bridgeSrv = null; }
  try { if (pair.holed) pair.blackhole(false); } catch (e) { /* going away */ }
  pair.down();
}

// ---- the client-server API: a fresh room per scenario -----------------------------------
let env = null;
async function csApi(method, token, p, body) {
  const r = await fetch(`${env.MXRTC_SYNAPSE_URL}/_matrix/client/v3${p}`, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(j).slice(0, 200)}`);
  return j;
}
async function freshRoom(name) {
  const { room_id: room } = await csApi('POST', env.MXRTC_SYNAPSE_ALICE_TOKEN, '/createRoom',
    { preset: 'private_chat', is_direct: true, name, invite: [env.MXRTC_SYNAPSE_BOB_USER] });
  await csApi('POST', env.MXRTC_SYNAPSE_BOB_TOKEN, `/rooms/${encodeURIComponent(room)}/join`, {});
  return room;
}

// ---- one side: a process with the contract's command line ----------------------------------
const MEDIA = { A: { hz: 1000, rgb: [200, 40, 60] }, B: { hz: 660, rgb: [40, 110, 210] } };
class Side {
  constructor(label, kind, mode, room, extra, ns) {
    this.label = label;
    this.kind = kind;
    this.events = [];
    this.result = null;
    this.exit = null;
    this.waiters = [];
    const user = label === 'A' ? 'ALICE' : 'BOB';
    const bin = kind === 'mxrtc' ? shq(o.mxrtc) : `${shq(process.execPath)} ${shq(path.join(__dirname, 'element/element_peer.js'))}`;
    const args = [mode, ...(room ? [room] : []), '--audio-hz', MEDIA[label].hz, '--video-rgb', MEDIA[label].rgb.join(','),
                  '--json', '--commands', ...extra];
    if (kind === 'element') args.push('--name', label);
    this.cmdline = `${bin} ${args.map(shq).join(' ')}`;
    this.ns = ns;
    this.env = { ...process.env, MXRTC_HOMESERVER: env.MXRTC_SYNAPSE_URL, MXRTC_USER: env[`MXRTC_SYNAPSE_${user}_USER`],
                 MXRTC_PASSWORD: env[`MXRTC_SYNAPSE_${user}_PASSWORD`] };
    delete this.env.MXRTC_ACCESS_TOKEN;
  }
  start() {
    this.t0 = Date.now();
    const argv = this.ns ? ['ip', ['netns', 'exec', this.ns, 'sh', '-c', `exec ${this.cmdline}`]] : ['sh', ['-c', `exec ${this.cmdline}`]];
    diag(`${this.label}: ${this.ns ? `[netns ${this.ns}] ` : ''}${this.cmdline}`);
    this.p = spawn(argv[0], argv[1], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: this.env });
    this.p.stdin.on('error', () => {});
    readline.createInterface({ input: this.p.stderr }).on('line', (l) => process.stderr.write(`  ${this.label}| ${l}\n`));
    readline.createInterface({ input: this.p.stdout }).on('line', (l) => {
      if (!l.trim()) return;
      let m;
      try { m = JSON.parse(l); } catch (e) { diag(`${this.label}: not JSON: ${l.slice(0, 120)}`); return; }
      if (!m || typeof m.type !== 'string') return;
      m.t = Date.now();
      if (process.env.MXRTC_INTEROP_VERBOSE) diag(`${this.label} +${m.t - this.t0} ms -> ${l.slice(0, 2000)}`);
      this.events.push(m);
      if (m.type === 'result') this.result = m;
      this.notify();
    });
    this.p.on('exit', (code, sig) => { this.exit = code !== null ? code : 128 + (os.constants.signals[sig] || 0); this.notify(); });
    return this;
  }
  send(cmd) { if (this.exit === null && this.p.stdin.writable) this.p.stdin.write(JSON.stringify(cmd) + '\n'); }
  notify() { this.waiters.splice(0).forEach((f) => f()); }
  has(pred) { return this.events.find(pred); }
  ended() { return this.has((e) => e.type === 'state' && e.state === 'ended'); }
  lastState() { const st = this.events.filter((e) => e.type === 'state'); return st.length ? st[st.length - 1].state : null; }
  // Resolves with the first event matching pred (also one already seen).
  waitEvent(pred, ms, what) {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + ms;
      const check = () => {
        const e = this.events.find(pred);
        if (e) return resolve(e);
        if (this.exit !== null) return reject(new Error(`${this.label} exited (${this.exit}) before ${what}`));
        if (Date.now() >= deadline) return reject(new Error(`${this.label}: no ${what} within ${Math.round(ms / 1000)} s`));
        this.waiters.push(check);
        clearTimeout(check.t);
        check.t = setTimeout(check, Math.min(500, deadline - Date.now()));
      };
      check();
    });
  }
  waitExit(ms) {
    return new Promise((resolve) => {
      const deadline = Date.now() + ms;
      const check = () => {
        if (this.exit !== null || Date.now() >= deadline) return resolve(this.exit);
        this.waiters.push(check);
        clearTimeout(check.t);
        check.t = setTimeout(check, Math.min(500, Math.max(1, deadline - Date.now())));
      };
      check();
    });
  }
  kill() {
    if (!this.p || this.exit !== null) return;
    try { process.kill(-this.p.pid, 'SIGKILL'); } catch (e) { /* gone */ }
  }
}
const isState = (s) => (e) => e.type === 'state' && e.state === s;

// ---- the scenarios ------------------------------------------------------------------------
const MEDIA_MS = 4000;   // media after both sides are connected (tone and colour measured in it)
// Scenario 10: the blip starts this long after both sides are connected and
// lasts long enough for Element to restart ICE inside it (Chromium reports
// "disconnected" after ~2.5-5 s without an answer, MatrixCall restarts 2 s
// later: ICE_RECONNECTING_TIMEOUT in webrtc/call.js).
// With blackhole routes Chromium's sends fail at once and it reports
// "disconnected" within a few seconds; when mxrtc drops the datagrams
// (--drop-network-*) Chromium only notices by its STUN pings going
// unanswered, which took ~8 s here: that blip lasts longer.
const BLIP_AT_MS = 1500;
const BLIP_MS = o.a === 'mxrtc' ? 12000 : 8000;
const TITLES = {
  1: 'A calls Element (voice)',
  2: 'Element calls A (video)',
  '3a': 'Element rejects A\'s call',
  '3b': 'A rejects Element\'s call',
  '4a': 'A hangs up (Element sees the remote hangup)',
  '4b': 'Element hangs up (A sees the remote hangup)',
  5: 'invite timeout (A invites for 6 s, Element never answers)',
  6: 'glare (both call at once; one call survives)',
  7: 'Element holds and resumes',
  8: 'Element mutes and unmutes its microphone',
  9: 'relay only through coturn (TURN from /voip/turnServer)',
  10: 'Element restarts ICE after a network blip',
};

function within(got, want, rel) { return typeof got === 'number' && Math.abs(got - want) <= rel * want; }
function checkMedia(fails, s, peer, video) {
  const r = s.result;
  if (!r) { fails.push(`${s.label}: no result`); return; }
  const want = MEDIA[peer.label];
  if (!within(r.audio_hz, want.hz, o.hzTol)) fails.push(`${s.label} heard ${r.audio_hz} Hz, ${peer.label} sent ${want.hz} Hz`);
  if (typeof r.first_audio_ms !== 'number') fails.push(`${s.label}: no first audio`);
  if (!(r.packets_received > 0)) fails.push(`${s.label}: no packets received`);
  if (video) {
    const g = r.video_rgb;
    if (!Array.isArray(g) || g.length !== 3 || g.some((x, i) => Math.abs(x - want.rgb[i]) > o.rgbTol))
      fails.push(`${s.label} saw colour ${JSON.stringify(g)}, ${peer.label} sent ${JSON.stringify(want.rgb)} (±${o.rgbTol})`);
  }
}
function checkEnd(fails, s, reasons, remote) {
  const e = s.ended();
  if (!e) { fails.push(`${s.label}: the call did not end`); return; }
  if (!reasons.includes(e.reason)) fails.push(`${s.label} ended with reason ${e.reason}, expected ${reasons.join(' or ')}`);
  if (remote !== undefined && e.remote_ended !== remote) fails.push(`${s.label}: remote_ended ${e.remote_ended}, expected ${remote}`);
}
function checkExit(fails, s, codes = [0]) {
  if (!codes.includes(s.exit)) fails.push(`${s.label} exit status ${s.exit === null ? '(still running: killed)' : s.exit}`);
}

async function runScenario(id) {
  const fails = [];
  const notes = [];
  const deadline = () => o.timeout * 1000;
  const room = await freshRoom(`mxrtc interop ${id}`);
  const relay = id === '9';
  const ns = { A: useNetns && !relay ? pair.a : null, B: useNetns && !relay ? pair.b : null };
  const sides = [];
  const mk = (label, mode, extra) => {
    const s = new Side(label, label === 'A' ? o.a : o.b, mode, room, extra, ns[label]);
    sides.push(s);
    return s;
  };
  const t0 = Date.now();
  let A, B;
  // The answering side first, ready before the call is placed, so that the
  // invite-to-audio time is the call's, not a browser's start-up.
  const answerFirst = async (callee, caller) => {
    callee.start();
    await callee.waitEvent((e) => e.type === 'ready', 45000, 'ready');
    caller.start();
  };
  const bothConnected = async () => {
    await Promise.all([A.waitEvent(isState('connected'), deadline(), 'connected'), B.waitEvent(isState('connected'), deadline(), 'connected')]);
  };
  const bothExit = async (ms = 15000) => { await Promise.all([A.waitExit(ms), B.waitExit(ms)]); };
  try {
    switch (id) {
      case '1': case '4a': case '4b': case '7': case '8': case '9': case '10': {
        const extra = relay ? ['--relay-only'] : [];
        const aExtra = [...extra];
        if (id === '10' && o.a === 'mxrtc') aExtra.push('--drop-network-at', String(BLIP_AT_MS / 1000), '--drop-network-for', String(BLIP_MS / 1000));
        A = mk('A', 'call', aExtra);
        B = mk('B', 'answer', extra);
        await answerFirst(B, A);
        await bothConnected();
        if (id === '7') {
          await sleep(2000);
          B.send({ cmd: 'hold', on: true });
          await A.waitEvent((e) => e.type === 'hold' && e.remote_hold === true, 8000, 'hold event with remote_hold true');
          await sleep(1500);
          B.send({ cmd: 'hold', on: false });
          await A.waitEvent((e) => e.type === 'hold' && e.remote_hold === false, 8000, 'hold event with remote_hold false');
          await sleep(2500);
        } else if (id === '8') {
          await sleep(2000);
          B.send({ cmd: 'mute', audio: true });
          await A.waitEvent((e) => e.type === 'remote_media' && e.audio_muted === true, 8000, 'remote_media audio_muted true');
          await sleep(3000);
          B.send({ cmd: 'mute', audio: false });
          await A.waitEvent((e) => e.type === 'remote_media' && e.audio_muted === false &&
                                   A.events.some((x) => x.type === 'remote_media' && x.audio_muted === true && x.t <= e.t), 8000,
                            'remote_media audio_muted false after true');
          await sleep(2000);
        } else if (id === '10') {
          await sleep(BLIP_AT_MS);
          const blipEnd = Date.now() + BLIP_MS;
          if (o.a !== 'mxrtc') {
            if (!useNetns) throw new Error('needs network namespaces for the blip (--netns on)');
            diag(`network blip: blackhole routes for ${BLIP_MS / 1000} s (A +${Date.now() - A.t0} ms)`);
            pair.blackhole(true);
            setTimeout(() => { try { pair.blackhole(false); diag('network blip over'); } catch (e) { diag(`blackhole: ${e.message}`); } }, BLIP_MS);
          }
          // Element must restart ICE itself: B when A is mxrtc; between two
          // Elements either one (both see "disconnected"; when both restart,
          // perfect negotiation keeps the impolite caller's offer).
          const byElement = (e) => e.type === 'ice_restart' && e.by === 'local';
          await Promise.race([B.waitEvent(byElement, 25000, 'ICE restart by Element'),
                              ...(o.a === 'element' ? [A.waitEvent(byElement, 25000, 'ICE restart by Element')] : [])]);
          await B.waitEvent((e) => e.type === 'ice_restart', 10000, 'ICE restart seen by Element (B)');
          await A.waitEvent((e) => e.type === 'ice_restart', 10000, 'ICE restart seen by A');
          await sleep(Math.max(0, blipEnd - Date.now()));
          // Connected again (a restart can also complete without leaving
          // "connected" when the path came back first), then media.
          await Promise.all([A, B].map((s) => s.waitEvent(() => s.lastState() === 'connected', 15000, 'connected after the restart')));
          await sleep(3000);
        } else {
          await sleep(MEDIA_MS);
        }
        const hanger = id === '4a' ? A : B;
        hanger.send({ cmd: 'hangup' });
        await bothExit();
        checkMedia(fails, A, B, false);
        checkMedia(fails, B, A, false);
        checkEnd(fails, hanger, ['user_hangup'], false);
        checkEnd(fails, hanger === A ? B : A, ['user_hangup'], true);
        checkExit(fails, A);
        checkExit(fails, B);
        if (id === '7') {
          const holds = A.events.filter((e) => e.type === 'hold').map((e) => e.remote_hold);
          if (!(holds.indexOf(true) >= 0 && holds.lastIndexOf(false) > holds.indexOf(true))) fails.push(`A's remote_hold went ${JSON.stringify(holds)}`);
          if (A.result && A.result.audio_after_resume !== true) fails.push(`A: audio_after_resume ${A.result.audio_after_resume}`);
          if (B.result && B.result.audio_after_resume !== true) fails.push(`B: audio_after_resume ${B.result.audio_after_resume}`);
        }
        if (id === '8') {
          const m = A.events.filter((e) => e.type === 'remote_media').map((e) => e.audio_muted);
          notes.push(`A's remote audio_muted: ${m.join('→')}`);
          if (A.result && A.result.audio_while_remote_muted === true) fails.push('A heard audio while Element was muted');
          if (A.result && A.result.audio_after_remote_unmute === false) fails.push('A heard no audio after Element unmuted');
        }
        if (id === '9') {
          for (const s of [A, B]) {
            const r = s.result || {};
            if (r.pair_types && r.pair_types[0] !== 'relay') fails.push(`${s.label}: selected pair ${r.pair}, not relayed`);
            if (r.remote_candidate_types && r.remote_candidate_types.some((t) => t !== 'relay'))
              fails.push(`${s.label} received non-relay candidates (${r.remote_candidate_types})`);
            if (r.local_candidate_types && r.local_candidate_types.some((t) => t !== 'relay'))
              fails.push(`${s.label} gathered non-relay candidates (${r.local_candidate_types})`);
            if (r.pair) notes.push(`${s.label} ${r.pair}`);
          }
        }
        if (id === '10') {
          for (const s of [A, B]) {
            if (s.result && s.result.audio_after_restart !== true) fails.push(`${s.label}: audio_after_restart ${s.result.audio_after_restart}`);
          }
          const by = (s) => s.events.filter((e) => e.type === 'ice_restart').map((e) => e.by || '?').join('+') || 'none';
          notes.push(`restarts seen: A ${A.events.filter((e) => e.type === 'ice_restart').length}, B ${by(B)} (by whose offer, as B saw it)`);
        }
        break;
      }
      case '2': {
        A = mk('A', 'answer', ['--video']);
        B = mk('B', 'call', ['--video']);
        await answerFirst(A, B);
        await bothConnected();
        await sleep(MEDIA_MS);
        B.send({ cmd: 'hangup' });
        await bothExit();
        checkMedia(fails, A, B, true);
        checkMedia(fails, B, A, true);
        checkEnd(fails, B, ['user_hangup'], false);
        checkEnd(fails, A, ['user_hangup'], true);
        checkExit(fails, A);
        checkExit(fails, B);
        break;
      }
      case '3a': case '3b': {
        // The callee rejects; the caller sees its invite rejected.
        const calleeLabel = id === '3a' ? 'B' : 'A';
        A = mk('A', calleeLabel === 'A' ? 'answer' : 'call', calleeLabel === 'A' ? ['--reject'] : []);
        B = mk('B', calleeLabel === 'B' ? 'answer' : 'call', calleeLabel === 'B' ? ['--reject'] : []);
        const callee = calleeLabel === 'A' ? A : B, caller = calleeLabel === 'A' ? B : A;
        await answerFirst(callee, caller);
        await caller.waitEvent(isState('ended'), deadline(), 'the end of the call');
        await bothExit();
        if (!callee.has((e) => e.type === 'incoming')) fails.push(`${callee.label} saw no incoming call`);
        checkEnd(fails, caller, ['rejected'], true);
        checkEnd(fails, callee, ['rejected'], false);
        if ([A, B].some((s) => s.has(isState('connected')))) fails.push('a rejected call connected');
        checkExit(fails, A);
        checkExit(fails, B);
        break;
      }
      case '5': {
        A = mk('A', 'call', ['--invite-lifetime', '6000']);
        B = mk('B', 'answer', ['--no-answer']);
        await answerFirst(B, A);
        await B.waitEvent((e) => e.type === 'incoming', 15000, 'incoming call');
        await Promise.all([A, B].map((s) => s.waitEvent(isState('ended'), 20000, 'the end of the call')));
        await bothExit();
        checkEnd(fails, A, ['invite_timeout']);
        checkEnd(fails, B, ['invite_timeout']);
        if ([A, B].some((s) => s.has(isState('connected')) || s.has(isState('connecting')))) fails.push('the unanswered call connected');
        // A timed-out invite is a failed call for `mxrtc call` (exit 1) or not:
        // the contract leaves it open; a crash or usage error is a failure.
        checkExit(fails, A, [0, 1]);
        checkExit(fails, B, [0, 1]);
        const tA = A.ended().t - (A.has((e) => e.type === 'invite_sent') || A.ended()).t;
        notes.push(`A's invite ended after ${(tA / 1000).toFixed(1)} s`);
        break;
      }
      case '6': {
        // Both sides ready, then both place their call at the same moment:
        // Element on the command `place` (--wait-start), mxrtc as soon as it
        // is ready (it places the call right after its first sync).
        A = mk('A', 'call', o.a === 'element' ? ['--wait-start'] : []);
        B = mk('B', 'call', ['--wait-start']);
        B.start();
        await B.waitEvent((e) => e.type === 'ready', 45000, 'ready');
        A.start();
        await A.waitEvent((e) => e.type === 'ready', 45000, 'ready');
        if (o.a === 'element') A.send({ cmd: 'place' });
        B.send({ cmd: 'place' });
        await bothConnected();
        await sleep(MEDIA_MS);
        B.send({ cmd: 'hangup' });
        await bothExit();
        const ca = A.events.filter(isState('connected')).map((e) => e.call_id);
        const cb = B.events.filter(isState('connected')).map((e) => e.call_id);
        if (new Set(ca).size !== 1 || new Set(cb).size !== 1 || ca[0] !== cb[0])
          fails.push(`connected calls differ: A ${[...new Set(ca)]}, B ${[...new Set(cb)]}`);
        if (A.result && B.result && A.result.call_id !== B.result.call_id) fails.push(`results for different calls: A ${A.result.call_id}, B ${B.result.call_id}`);
        checkMedia(fails, A, B, false);
        checkMedia(fails, B, A, false);
        checkExit(fails, A);
        checkExit(fails, B);
        const invites = [A, B].map((s) => s.events.filter((e) => e.type === 'invite_sent').map((e) => e.call_id)).flat();
        const winner = ca[0];
        notes.push(`invites sent: ${invites.length}, surviving call ${winner === (A.has((e) => e.type === 'invite_sent') || {}).call_id ? 'A' : 'B'}'s`);
        break;
      }
      default: throw new Error(`scenario ${id}?`);
    }
  } catch (e) {
    fails.push(e.message);
  } finally {
    for (const s of sides) if (s.exit === null) s.send({ cmd: 'hangup' });
    await Promise.all(sides.map((s) => s.waitExit(s.exit === null ? 5000 : 0)));
    for (const s of sides) s.kill();
    if (pair.holed) { try { pair.blackhole(false); } catch (e) { /* */ } }
  }
  const secs = (Date.now() - t0) / 1000;
  const fa = (s) => (s && s.result && typeof s.result.first_audio_ms === 'number' ? s.result.first_audio_ms : null);
  const ok = fails.length === 0;
  say(`scenario ${id}: ${TITLES[id]}: ${ok ? 'PASS' : 'FAIL'} (${secs.toFixed(1)} s)` +
      `; invite→first audio A ${fa(A) ?? '-'} ms, B ${fa(B) ?? '-'} ms` +
      (notes.length ? `; ${notes.join('; ')}` : '') + (ok ? '' : `; ${fails.join('; ')}`));
  const summ = (s) => (s && s.result ? {
    first_audio_ms: s.result.first_audio_ms ?? null, connect_ms: s.result.connect_ms ?? null,
    audio_hz: s.result.audio_hz ?? null, video_rgb: s.result.video_rgb ?? null, end_reason: s.result.end_reason ?? null,
    exit: s.exit,
  } : { exit: s ? s.exit : null });
  return { id, title: TITLES[id], pass: ok, reasons: fails, notes, seconds: secs, A: summ(A), B: summ(B) };
}

async function main() {
  await build(); // the Element bundle, before the clock of the first scenario runs
  const envFile = o.synapseEnv || startServers();
  env = readEnvFile(envFile);
  if (!env.MXRTC_SYNAPSE_URL || !env.MXRTC_SYNAPSE_ALICE_TOKEN) throw new Error(`${envFile}: not a synapse.sh env file`);
  if (o.scenarios.includes('9') && env.MXRTC_SYNAPSE_TURN !== '1')
    diag('Synapse has no TURN (start it with MXRTC_COTURN_ENV): scenario 9 will fail');
  await networkUp(env.MXRTC_SYNAPSE_URL);
  say(`A: ${o.a === 'mxrtc' ? `mxrtc (${o.mxrtc})` : 'Element'}, B: Element (matrix-js-sdk); homeserver ${env.MXRTC_SYNAPSE_URL}; ` +
      (useNetns ? `namespaces ${pair.a}/${pair.b}` : 'no network namespaces'));
  const results = [];
  for (const id of o.scenarios) {
    try { results.push(await runScenario(id)); } catch (e) {
      say(`scenario ${id}: ${TITLES[id]}: FAIL; ${e.message}`);
      results.push({ id, title: TITLES[id], pass: false, reasons: [e.message] });
    }
  }
  const passed = results.filter((r) => r.pass).length, failed = results.length - passed;
  if (o.jsonSummary) fs.writeFileSync(o.jsonSummary, JSON.stringify({ a: o.a, b: o.b, passed, failed, scenarios: results }, null, 1) + '\n');
  say(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function cleanup() {
  networkDown();
  stopServers();
  try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch (e) { /* ignore */ }
}
process.on('SIGINT', () => { cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });
main().then((code) => { cleanup(); process.exit(code); },
            (e) => { diag(e.stack || String(e)); cleanup(); process.exit(1); });
