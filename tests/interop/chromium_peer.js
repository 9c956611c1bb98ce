#!/usr/bin/env node
// chromium_peer.js: one side of a call in headless Chromium, speaking the
// JSON-lines signalling protocol (docs/interop.md) on stdin/stdout. The same
// options are what run.js passes to any peer command (`mxrtc peer` included):
//
//   --offer | --answer          which side makes the first offer
//   --audio-hz N                send a sine tone of N Hz; measure the received tone
//   --video-rgb R,G,B           send a solid colour; measure the received colour
//   --video-size WxH            that colour's canvas size (default 320x240)
//   --renegotiate               (offerer) start audio-only, add video once audio is heard
//   --relay-only --turn URL --turn-user U --turn-pass P
//                               iceTransportPolicy 'relay' through that TURN server
//   --mdns on|off               on: Chrome's default .local host candidates (no
//                               media permission); off: raw IP host candidates
//   --hangup                    after writing the result, write bye and exit
//   --timeout S                 give up measuring after S seconds (default 30)
//
// It writes {"type":"ready"} once the page runs, trickles candidates, writes
// {"type":"result",...} when its measurements are done, and exits 0 on
// {"type":"bye"} (or after sending its own with --hangup). Diagnostics go to
// stderr only.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { loadPlaywright, launchChromium, routePage, MEASURE_JS } = require('./chromium');
const { chromium } = loadPlaywright('chromium_peer');

function parseArgs(argv) {
  const o = { offer: false, answer: false, audioHz: 0, videoRgb: null, renegotiate: false,
              relayOnly: false, turn: null, turnUser: '', turnPass: '', mdns: 'on',
              hangup: false, timeout: 30, name: 'chromium', videoSize: [320, 240] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--offer': o.offer = true; break;
      case '--answer': o.answer = true; break;
      case '--audio-hz': o.audioHz = Number(val()); break;
      case '--video-rgb': o.videoRgb = val().split(',').map(Number); break;
      case '--video-size': o.videoSize = val().split('x').map(Number); break;
      case '--renegotiate': o.renegotiate = true; break;
      case '--relay-only': o.relayOnly = true; break;
      case '--turn': o.turn = val(); break;
      case '--turn-user': o.turnUser = val(); break;
      case '--turn-pass': o.turnPass = val(); break;
      case '--mdns': o.mdns = val(); break;
      case '--hangup': o.hangup = true; break;
      case '--timeout': o.timeout = Number(val()); break;
      case '--name': o.name = val(); break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  if (o.offer === o.answer) throw new Error('exactly one of --offer/--answer');
  if (!(o.audioHz >= 0 && o.audioHz < 24000)) throw new Error('--audio-hz out of range');
  if (o.videoRgb && (o.videoRgb.length !== 3 || o.videoRgb.some((x) => !(x >= 0 && x <= 255))))
    throw new Error('--video-rgb wants R,G,B in 0..255');
  if (o.videoSize.length !== 2 || o.videoSize.some((x) => !(x >= 16 && x <= 1920)))
    throw new Error('--video-size wants WxH');
  if (o.relayOnly && !o.turn) throw new Error('--relay-only needs --turn');
  if (o.mdns !== 'on' && o.mdns !== 'off') throw new Error('--mdns on|off');
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`chromium_peer: ${e.message}\n`);
  process.exit(2);
}
const tag = `[${opts.name}]`;
const log = (s) => process.stderr.write(`${tag} ${s}\n`);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const PAGE_URL = 'http://localhost:9/peer.html'; // served by page.route, never fetched
const HTML = '<!doctype html><meta charset="utf-8"><title>mxrtc interop peer</title><body></body>';

let browser = null;
let exiting = false;
let tmp = null;
async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  try { if (browser) await browser.close(); } catch (e) { log(`close: ${e.message}`); }
  try { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); } catch (e) { /* ignore */ }
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(143));
process.on('SIGINT', () => shutdown(130));

async function main() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mxrtc-chromium-'));
  browser = await launchChromium(chromium, tmp, { mdns: opts.mdns });
  const page = browser.pages()[0] || await browser.newPage();
  page.on('console', (m) => log(`console: ${m.text()}`));
  page.on('pageerror', (e) => log(`page error: ${e.message}`));
  await routePage(page, PAGE_URL, HTML, {
    'http://localhost:9/media_measure.js': MEASURE_JS,
    'http://localhost:9/page.js': path.join(__dirname, 'page.js'),
  });
  await page.exposeFunction('mxSend', (o) => { if (!exiting) out(o); });
  await page.exposeFunction('mxLog', (s) => log(s));
  await page.goto(PAGE_URL);
  const cfg = { offer: opts.offer, audioHz: opts.audioHz, videoRgb: opts.videoRgb, videoSize: opts.videoSize,
                renegotiate: opts.renegotiate, relayOnly: opts.relayOnly, turn: opts.turn,
                turnUser: opts.turnUser, turnPass: opts.turnPass, timeoutMs: opts.timeout * 1000 };
  await page.evaluate((c) => { window.MX_CONFIG = c; }, cfg);
  await page.addScriptTag({ url: 'http://localhost:9/media_measure.js' });
  await page.addScriptTag({ url: 'http://localhost:9/page.js' });

  let sawLocalMdns = false;
  let sawRemoteMdns = false;
  const mdnsRe = /^candidate:\S+ \d+ \S+ \d+ [0-9a-f-]+\.local /i;
  // Note our own .local candidates on the way out.
  await page.exposeFunction('mxNoteLocal', (c) => { if (mdnsRe.test(c)) sawLocalMdns = true; });
  await page.evaluate(() => {
    const send = window.mxSend;
    window.mxSend = (o) => { if (o.type === 'candidate') window.mxNoteLocal(o.candidate); return send(o); };
  });

  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let byeSeen = false;
  rl.on('line', (line) => {
    if (!line.trim()) return;
    let m;
    try { m = JSON.parse(line); } catch (e) { log(`malformed line ignored: ${line.slice(0, 80)}`); return; }
    if (!m || typeof m !== 'object' || typeof m.type !== 'string') { log('line without a type ignored'); return; }
    if (m.type === 'bye') {
      byeSeen = true;
      log('bye received: closing');
      page.evaluate(() => window.mxClose()).catch(() => {}).finally(() => shutdown(0));
      return;
    }
    if (m.type === 'candidate' && typeof m.candidate === 'string' && mdnsRe.test(m.candidate)) sawRemoteMdns = true;
    if (['offer', 'answer', 'candidate', 'end-of-candidates'].includes(m.type))
      page.evaluate((x) => window.mxSignal(x), m).catch((e) => log(`deliver ${m.type}: ${e.message}`));
  });
  rl.on('close', () => { if (!byeSeen) { log('stdin closed: exiting'); shutdown(0); } });

  out({ type: 'ready' });
  const res = await page.evaluate(() => window.mxRun());
  res.local_mdns = sawLocalMdns;
  res.remote_mdns = sawRemoteMdns;
  if (exiting) return;
  out(res);
  if (opts.hangup) {
    log('hanging up');
    out({ type: 'bye' });
    await page.evaluate(() => window.mxClose()).catch(() => {});
    await shutdown(0);
  }
}

main().catch((e) => {
  if (exiting) return; // a bye closed the page while it was measuring
  log(`fatal: ${e.stack || e}`);
  shutdown(1);
});
