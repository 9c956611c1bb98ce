#!/usr/bin/env node
// element_peer.js: Element's call code (matrix-js-sdk's MatrixCall) in
// headless Chromium, with the command line of `mxrtc call` / `mxrtc answer`
// (/work/briefs/call_tool_contract.md, docs/interop.md), so a driver runs
// either one the same way:
//
//   node element_peer.js call ROOM [options]      place a call in ROOM, run it until it ends
//   node element_peer.js answer [ROOM] [options]  wait for a call (in ROOM or any room), answer it
//
// Account: --homeserver URL / MXRTC_HOMESERVER, --user U / MXRTC_USER, and
// MXRTC_PASSWORD or MXRTC_ACCESS_TOKEN (never on the command line).
// Options as the contract's: --video, --audio-hz N, --video-rgb R,G,B,
// --duration S, --timeout S, --invite-lifetime MS, --reject, --no-answer,
// --relay-only (the SDK's forceTURN, TURN from /voip/turnServer), --json
// (accepted: the output is always JSON lines), --commands (JSON-lines
// commands on stdin: hangup, hold, mute, video, answer, reject). Not
// supported (exit 2): --audio-file, --video-file, --record-audio,
// --record-video, --drop-network-at/--drop-network-for (a browser cannot
// drop its own packets: matrix_run.js makes the blip in the network).
// Extras: --wait-start (call: place the call on the command
// {"cmd":"place"} instead of at once, for glare tests), --name X.
//
// stdout: the contract's JSON lines (ready, invite_sent, incoming, state,
// remote_media, hold, ice_restart, result) plus `replaced` (a glare moved us
// to the other call). Exit 0 when the call ended by a hangup or reject from
// either side or --duration, 1 when it failed, 2 for a usage error.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { loadPlaywright, launchChromium, routePage, MEASURE_JS } = require('../chromium');
const { build } = require('./build');

const USAGE = 'usage: element_peer.js call ROOM | answer [ROOM] [--video] [--audio-hz N] [--video-rgb R,G,B]\n' +
  '  [--duration S] [--timeout S] [--invite-lifetime MS] [--reject] [--no-answer] [--relay-only]\n' +
  '  [--json] [--commands] [--wait-start] [--homeserver URL] [--user U] [--name X]';

function parseArgs(argv) {
  const o = { mode: argv[0], room: null, video: false, audioHz: 440, videoRgb: [200, 200, 200],
              duration: 0, timeout: 0, inviteLifetime: 0, reject: false, noAnswer: false,
              relayOnly: false, commands: false, waitStart: false,
              homeserver: process.env.MXRTC_HOMESERVER || '', user: process.env.MXRTC_USER || '',
              name: 'element' };
  if (o.mode !== 'call' && o.mode !== 'answer') throw new Error('first argument: call or answer');
  let i = 1;
  if (argv[i] && !argv[i].startsWith('--')) o.room = argv[i++];
  if (o.mode === 'call' && !o.room) throw new Error('call needs a ROOM');
  const num = (a, v) => { const n = Number(v); if (!Number.isFinite(n) || n < 0) throw new Error(`${a}: bad number ${v}`); return n; };
  for (; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    switch (a) {
      case '--video': o.video = true; break;
      case '--audio-hz': o.audioHz = num(a, val()); break;
      case '--video-rgb': o.videoRgb = val().split(',').map(Number); break;
      case '--duration': o.duration = num(a, val()); break;
      case '--timeout': o.timeout = num(a, val()); break;
      case '--invite-lifetime': o.inviteLifetime = num(a, val()); break;
      case '--reject': o.reject = true; break;
      case '--no-answer': o.noAnswer = true; break;
      case '--relay-only': o.relayOnly = true; break;
      case '--json': break;
      case '--commands': o.commands = true; break;
      case '--wait-start': o.waitStart = true; break;
      case '--homeserver': o.homeserver = val(); break;
      case '--user': o.user = val(); break;
      case '--name': o.name = val(); break;
      case '--audio-file': case '--video-file': case '--record-audio': case '--record-video':
      case '--drop-network-at': case '--drop-network-for':
        throw new Error(`${a} is not supported by the Element peer`);
      default: throw new Error(`unknown option ${a}`);
    }
  }
  if (!(o.audioHz > 0 && o.audioHz < 24000)) throw new Error('--audio-hz out of range');
  if (o.videoRgb.length !== 3 || o.videoRgb.some((x) => !(x >= 0 && x <= 255))) throw new Error('--video-rgb wants R,G,B in 0..255');
  if (!o.homeserver) throw new Error('no homeserver (--homeserver or MXRTC_HOMESERVER)');
  if (!o.user && !process.env.MXRTC_ACCESS_TOKEN) throw new Error('no user (--user or MXRTC_USER)');
  if (!process.env.MXRTC_PASSWORD && !process.env.MXRTC_ACCESS_TOKEN) throw new Error('no MXRTC_PASSWORD or MXRTC_ACCESS_TOKEN');
  if (o.reject && o.noAnswer) throw new Error('--reject or --no-answer, not both');
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`element_peer: ${e.message}\n${USAGE}\n`);
  process.exit(2);
}
const tag = `[${opts.name}]`;
const log = (s) => process.stderr.write(`${tag} ${s}\n`);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const verbose = !!process.env.MXRTC_INTEROP_VERBOSE;
const { chromium } = loadPlaywright('element_peer');

const HTML = '<!doctype html><meta charset="utf-8"><title>mxrtc interop Element</title><body></body>';
const OK_REASONS = new Set(['user_hangup', 'rejected', 'answered_elsewhere', 'replaced', 'user_busy']);

let browser = null;
let page = null;
let tmp = null;
let exiting = false;
let result = null;
let ended = null;      // the ended state line
let connected = false;
let durationTimer = null;

async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  try { if (page) await page.evaluate(() => window.mxStop()).catch(() => {}); } catch (e) { /* closed */ }
  try { if (browser) await browser.close(); } catch (e) { log(`close: ${e.message}`); }
  try { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); } catch (e) { /* ignore */ }
  process.exit(code);
}
const command = (c) => (page ? page.evaluate((m) => window.mxCommand(m), c).catch((e) => log(`command: ${e.message}`)) : null);

// Ctrl-C: hang up cleanly, then exit (as `mxrtc call`).
let signalled = false;
async function onSignal(code) {
  if (signalled) return shutdown(code);
  signalled = true;
  log('signal: hanging up');
  await command({ cmd: 'hangup' });
  setTimeout(() => finishAndExit(code), 500);
}
process.on('SIGTERM', () => onSignal(143));
process.on('SIGINT', () => onSignal(130));

async function finishAndExit(code) {
  if (exiting) return;
  if (!result && page) {
    result = await page.evaluate(() => window.mxResult()).catch(() => null);
    if (result) out(result);
  }
  if (code === undefined) {
    const r = ended ? ended.reason : null;
    code = r && (OK_REASONS.has(r) || (r === 'invite_timeout' && opts.mode === 'answer') ||
                 (opts.duration && r === 'user_hangup')) ? 0 : 1;
  }
  await shutdown(code);
}

function onEvent(m) {
  if (exiting) return;
  out(m);
  if (m.type === 'state' && m.state === 'connected' && !connected) {
    connected = true;
    if (opts.duration) durationTimer = setTimeout(() => { log('duration over: hanging up'); command({ cmd: 'hangup' }); }, opts.duration * 1000);
  }
  if (m.type === 'state' && m.state === 'ended' && !ended) {
    ended = m;
    clearTimeout(durationTimer);
    finishAndExit();
  }
}

async function main() {
  const bundle = await build();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mxrtc-element-'));
  browser = await launchChromium(chromium, tmp, { mdns: 'on' });
  page = browser.pages()[0] || await browser.newPage();
  // The SDK's log only when verbose; errors always, but not the 404s of the
  // endpoints Synapse does not have (the SDK probes, and copes).
  page.on('console', (m) => {
    if (verbose || (m.type() === 'error' && !/^Failed to load resource: .* 404/.test(m.text()))) log(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => log(`page error: ${e.message}`));
  // The page is served (by page.route, never fetched) under the homeserver's
  // origin: its requests to the homeserver are then same-origin. From any
  // other origin Chromium's Local Network Access checks refuse requests to a
  // loopback homeserver.
  const hs = new URL(opts.homeserver);
  const ORIGIN = `${hs.origin}/_mxrtc_interop`;
  const PAGE_URL = `${ORIGIN}/element.html`;
  await routePage(page, PAGE_URL, HTML, {
    [`${ORIGIN}/media_measure.js`]: MEASURE_JS,
    [`${ORIGIN}/matrix-sdk.js`]: bundle,
    [`${ORIGIN}/page.js`]: path.join(__dirname, 'page.js'),
  }, (u) => new URL(u).origin === hs.origin && !u.startsWith(ORIGIN));
  await page.exposeFunction('mxSend', (o) => onEvent(o));
  await page.exposeFunction('mxLog', (s) => { if (verbose || !/: ice |: state |remote \w+ track/.test(s)) log(s); });
  await page.goto(PAGE_URL);
  const cfg = {
    name: opts.name, homeserver: opts.homeserver, user: opts.user,
    password: process.env.MXRTC_PASSWORD || '', accessToken: process.env.MXRTC_ACCESS_TOKEN || '',
    mode: opts.mode, room: opts.room, video: opts.video, audioHz: opts.audioHz, videoRgb: opts.videoRgb,
    relayOnly: opts.relayOnly, timeoutMs: 30000,
    answerMode: opts.reject ? 'reject' : opts.noAnswer ? 'ring' : 'answer',
  };
  // Before the bundle: the SDK reads it when call.js is evaluated (build.js).
  await page.evaluate(({ c, lifetime }) => {
    window.MX_CONFIG = c;
    if (lifetime) globalThis.MX_CALL_TIMEOUT_MS = lifetime;
  }, { c: cfg, lifetime: opts.inviteLifetime });
  for (const s of ['media_measure.js', 'matrix-sdk.js', 'page.js']) await page.addScriptTag({ url: `${ORIGIN}/${s}` });
  const who = await page.evaluate(() => window.mxStart());
  out({ type: 'ready', user_id: who.user_id, device_id: who.device_id });

  if (opts.commands) {
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    rl.on('line', (line) => {
      if (!line.trim()) return;
      let m;
      try { m = JSON.parse(line); } catch (e) { log(`malformed command ignored: ${line.slice(0, 80)}`); return; }
      if (!m || typeof m.cmd !== 'string') { log('command without cmd ignored'); return; }
      command(m);
    });
  }
  if (opts.timeout) {
    setTimeout(() => {
      if (connected || ended) return;
      log(`not connected after ${opts.timeout} s`);
      if (opts.mode === 'call') command({ cmd: 'hangup', reason: 'invite_timeout' });
      else finishAndExit(1);
    }, opts.timeout * 1000);
  }
  if (opts.mode === 'call' && !opts.waitStart) await command({ cmd: 'place' });
}

main().catch((e) => {
  if (exiting) return;
  log(`fatal: ${e.stack || e}`);
  shutdown(1);
});
