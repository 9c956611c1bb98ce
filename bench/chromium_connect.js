#!/usr/bin/env node
// chromium_connect.js: section 1 of BENCHMARKS.md for Chromium. Two
// RTCPeerConnections in ONE headless page (the browser tests/interop starts,
// same flags: tests/interop/chromium.js, raw IP host candidates),
// signalled in the page: offer, answer and trickled candidates handed across
// directly. One Opus audio track each way from a WebAudio oscillator; no
// STUN or TURN server, so host candidates of this machine only.
//
//   node bench/chromium_connect.js RUNS
//
// Per run: from just before createOffer() on the offerer to the first
// decrypted media on the answerer. The web API has no event for "an SRTP
// packet was decrypted"; two observations bracket it from above:
//   connect_ms  the answerer's remote track fires 'unmute' (receive tracks
//               start muted and unmute when media first arrives: in Chromium
//               when the first audio comes out of the receive stream, i.e.
//               the first packet decrypted, depacketized and decoded), the
//               tighter bound and the figure reported;
//   stats_ms    the answerer's inbound-rtp packetsReceived > 0 in
//               RTCRtpReceiver.getStats(), polled back to back; Chromium
//               serves a cached stats report for up to 50 ms, so this one is
//               late by up to that much (its poll interval is ~0: cached).
// Also the answerer's connectionState 'connected' (ICE + DTLS), before
// which no packet can be decrypted: the first decrypted packet lies between
// connected_ms and connect_ms. A timing: printed, never asserted.
'use strict';
const path = require('path');
let chromium;
try {
  ({ chromium } = require(path.join(__dirname, '../tests/interop/node_modules/playwright-core')));
} catch (e) {
  process.stderr.write('chromium_connect: playwright-core is missing: run `npm ci --prefix tests/interop`\n');
  process.exit(1);
}
const fs = require('fs');
const os = require('os');
const { launchChromium } = require('../tests/interop/chromium');

const runs = Number(process.argv[2]);
if (!(runs >= 1 && runs <= 1000)) {
  process.stderr.write('usage: chromium_connect.js RUNS\n');
  process.exit(2);
}

const PAGE_URL = 'http://localhost:9/connect.html'; // served by page.route, never fetched
const HTML = '<!doctype html><meta charset="utf-8"><title>mxrtc connect bench</title><body></body>';

// Runs in the page: one connection, returns the timings in ms.
async function oneRun() {
  const ac = window.benchAc || (window.benchAc = new AudioContext({ sampleRate: 48000 }));
  const tone = (hz) => {
    const osc = ac.createOscillator();
    osc.frequency.value = hz;
    const dst = ac.createMediaStreamDestination();
    osc.connect(dst);
    osc.start();
    return dst.stream.getAudioTracks()[0];
  };
  const ta = tone(440), tb = tone(660);
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  // Candidates wait until the receiving side has the remote description.
  const pend = new Map([[a, []], [b, []]]);
  const give = (to, c) => {
    if (to.remoteDescription) to.addIceCandidate(c).catch(() => {});
    else pend.get(to).push(c);
  };
  const flush = (pc) => { for (const c of pend.get(pc).splice(0)) pc.addIceCandidate(c).catch(() => {}); };
  a.onicecandidate = (e) => { if (e.candidate) give(b, e.candidate); };
  b.onicecandidate = (e) => { if (e.candidate) give(a, e.candidate); };
  let tConnected = 0, tUnmute = 0, mutedAtStart = null;
  b.ontrack = (e) => {
    mutedAtStart = e.track.muted;
    e.track.onunmute = () => { if (!tUnmute) tUnmute = performance.now(); };
  };
  b.onconnectionstatechange = () => { if (b.connectionState === 'connected' && !tConnected) tConnected = performance.now(); };
  a.addTrack(ta);

  const t0 = performance.now();
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  flush(b);
  const tr = b.getTransceivers()[0];
  await tr.sender.replaceTrack(tb);
  tr.direction = 'sendrecv';
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  flush(a);

  const recv = tr.receiver;
  let t1 = 0;
  const deadline = t0 + 15000;
  while (performance.now() < deadline) {
    const st = await recv.getStats();
    const now = performance.now();
    let n = 0;
    st.forEach((r) => { if (r.type === 'inbound-rtp') n += r.packetsReceived || 0; });
    if (n > 0) { t1 = now; break; }
  }
  a.close();
  b.close();
  ta.stop();
  tb.stop();
  // 'unmute' may come a moment after the stats show the packet.
  for (let k = 0; k < 100 && !tUnmute && mutedAtStart; k++) await new Promise((r) => setTimeout(r, 5));
  return { stats_ms: t1 ? t1 - t0 : null, connected_ms: tConnected ? tConnected - t0 : null,
           connect_ms: tUnmute && mutedAtStart ? tUnmute - t0 : null };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mxrtc-chromium-'));
  const browser = await launchChromium(chromium, tmp, { mdns: 'off' });
  let failed = 0;
  const v = [], vs = [];
  try {
    const page = browser.pages()[0] || await browser.newPage();
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    await page.route('**/*', (route) => (route.request().url() === PAGE_URL
      ? route.fulfill({ status: 200, contentType: 'text/html', body: HTML }) : route.abort()));
    await page.goto(PAGE_URL);
    for (let i = 0; i < runs; i++) {
      const r = await page.evaluate(oneRun);
      if (r.connect_ms === null) {
        failed++;
        console.log(`run ${i + 1}: failed`);
        continue;
      }
      v.push(r.connect_ms);
      vs.push(r.stats_ms ?? NaN);
      console.log(`run ${i + 1}: connect_ms=${r.connect_ms.toFixed(2)} stats_ms=${(r.stats_ms ?? NaN).toFixed(2)} connected_ms=${(r.connected_ms ?? -1).toFixed(2)}`);
    }
  } finally {
    await browser.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const median = (a) => {
    a.sort((x, y) => x - y);
    return a.length ? (a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2) : NaN;
  };
  console.log(`median connect_ms=${median(v).toFixed(2)} stats_ms=${median(vs).toFixed(2)} runs=${v.length} failed=${failed}`);
  process.exit(failed ? 1 : 0);
}
main().catch((e) => { process.stderr.write(`chromium_connect: ${e.stack || e}\n`); process.exit(1); });
