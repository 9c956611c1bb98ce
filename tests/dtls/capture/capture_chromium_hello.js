// Chromium as a WebRTC offerer against a UDP peer of ours, in a private
// network namespace (traffic never leaves the machine). Two modes:
//
//  capture (default): we answer as an ICE-lite, DTLS-passive peer from this
//    script and save the DTLS datagrams Chromium sends (its ClientHello) as
//    OUT.0.bin, OUT.1.bin...: how tests/dtls/vectors/chromium_ch_frag_rec*.bin
//    were made.
//  LIVE=server|client: the peer is build/tests/dtls/dtls_live_peer (mxrtc's
//    endpoint behind an ICE-lite responder) in that DTLS role, and the
//    handshake must complete (Chromium's connectionState "connected").
//
// Needs: apt-get install chromium; npm install playwright-core (NODE_PATH);
// root for the namespace:
//   unshare -n sh -c 'ip link set lo up; ip link add v0 type veth peer name v1;
//     ip addr add 198.51.100.1/24 dev v0; ip link set v0 up; ip link set v1 up;
//     CAPIP=198.51.100.1 node capture_chromium_hello.js OUT'
// (Chromium gathers no candidate on a loopback-only namespace.)
const { chromium } = require('playwright-core');
const dgram = require('dgram'), crypto = require('crypto'), zlib = require('zlib'), fs = require('fs'),
  http = require('http'), cp = require('child_process'), path = require('path'), readline = require('readline');
const UFRAG = 'mxrt', PWD = 'mxrtcpasswordmxrtcpassword12';
const IP = process.env.CAPIP || '127.0.0.1', LIVE = process.env.LIVE;
const out = process.argv[2] || '/tmp/chromium_hello';
const PEER = process.env.PEER || path.join(__dirname, '../../../build/tests/dtls/dtls_live_peer');

function stunResponse(req, rinfo) {
  const txid = req.subarray(8, 20);
  const xma = Buffer.alloc(12);
  xma.writeUInt16BE(0x0020, 0); xma.writeUInt16BE(8, 2); xma[4] = 0; xma[5] = 1;
  xma.writeUInt16BE(rinfo.port ^ 0x2112, 6);
  const ip = rinfo.address.split('.').map(Number), magic = [0x21, 0x12, 0xa4, 0x42];
  for (let i = 0; i < 4; i++) xma[8 + i] = ip[i] ^ magic[i];
  const hdr = Buffer.alloc(20); hdr.writeUInt16BE(0x0101, 0); hdr.writeUInt32BE(0x2112a442, 4); txid.copy(hdr, 8);
  hdr.writeUInt16BE(12 + 24, 2);
  const mi = crypto.createHmac('sha1', PWD).update(Buffer.concat([hdr, xma])).digest();
  const miAttr = Buffer.concat([Buffer.from([0x00, 0x08, 0x00, 0x14]), mi]);
  hdr.writeUInt16BE(12 + 24 + 8, 2);
  const msg = Buffer.concat([hdr, xma, miAttr]);
  const crc = (zlib.crc32(msg) ^ 0x5354554e) >>> 0;
  const fp = Buffer.alloc(8); fp.writeUInt16BE(0x8028, 0); fp.writeUInt16BE(4, 2); fp.writeUInt32BE(crc, 4);
  return Buffer.concat([msg, fp]);
}

async function capturePeer() {
  const sock = dgram.createSocket('udp4'), dtls = [];
  sock.on('message', (msg, rinfo) => {
    if (msg[0] < 4 && msg.readUInt16BE(0) === 0x0001) sock.send(stunResponse(msg, rinfo), rinfo.port, rinfo.address);
    else if (msg[0] >= 20 && msg[0] <= 63) {
      fs.writeFileSync(`${out}.${dtls.length}.bin`, msg); dtls.push(msg);
      console.log('dtls', msg.length, msg.subarray(0, 30).toString('hex'));
    }
  });
  await new Promise(r => sock.bind(0, IP, r));
  const fp = Array.from({ length: 32 }, (_, i) => (i * 7 + 3).toString(16).padStart(2, '0').toUpperCase()).join(':');
  return { port: sock.address().port, fp: 'sha-256 ' + fp, setup: 'passive',
    done: () => dtls.length >= 4, close: () => sock.close() };
}

async function livePeer(chromeFp) {
  const child = cp.spawn(PEER, [IP, LIVE, PWD, chromeFp]);
  const lines = [];
  const rl = readline.createInterface({ input: child.stdout });
  rl.on('line', l => { lines.push(l); console.log('peer:', l); });
  child.stderr.on('data', d => process.stderr.write(d));
  while (!lines.some(l => l.startsWith('FINGERPRINT'))) await new Promise(r => setTimeout(r, 20));
  const port = Number(lines.find(l => l.startsWith('PORT')).split(' ')[1]);
  const fp = lines.find(l => l.startsWith('FINGERPRINT')).slice('FINGERPRINT '.length);
  return { port, fp, setup: LIVE === 'client' ? 'active' : 'passive',
    done: () => lines.some(l => /^(CONNECTED|FAILED)/.test(l)), close: () => child.kill(), lines };
}

(async () => {
  const srv = http.createServer((q, s) => { s.setHeader('content-type', 'text/html'); s.end('<html><body>x</body></html>'); });
  await new Promise(r => srv.listen(0, '127.0.0.1', r));
  const tmp = fs.mkdtempSync('/tmp/chr-');
  const ctx = await chromium.launchPersistentContext(tmp, { executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'] });
  const page = await ctx.newPage();
  await page.goto(`http://localhost:${srv.address().port}/`);
  const offer = await page.evaluate(async () => {
    window.keep = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection(); window.pc = pc;
    pc.createDataChannel('x');
    const o = await pc.createOffer(); await pc.setLocalDescription(o);
    return o.sdp;
  });
  const chromeFp = /a=fingerprint:(.*)/.exec(offer)[1].trim();
  const peer = LIVE ? await livePeer(chromeFp) : await capturePeer();
  await page.evaluate(async (a) => {
    const mid = /a=mid:(\S+)/.exec(pc.localDescription.sdp)[1];
    const sdp = `v=0\r\no=- 1 2 IN IP4 ${a.ip}\r\ns=-\r\nt=0 0\r\na=group:BUNDLE ${mid}\r\na=ice-lite\r\n` +
      `m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 ${a.ip}\r\na=mid:${mid}\r\n` +
      `a=ice-ufrag:${a.ufrag}\r\na=ice-pwd:${a.pwd}\r\na=fingerprint:${a.fp}\r\na=setup:${a.setup}\r\n` +
      `a=sctp-port:5000\r\na=candidate:1 1 udp 2130706431 ${a.ip} ${a.port} typ host\r\n`;
    await pc.setRemoteDescription({ type: 'answer', sdp });
  }, { ufrag: UFRAG, pwd: PWD, fp: peer.fp, port: peer.port, ip: IP, setup: peer.setup });
  const t0 = Date.now();
  let state = '';
  while (Date.now() - t0 < 15000) {
    state = await page.evaluate(() => pc.connectionState);
    if (peer.done() && (!LIVE || state === 'connected' || state === 'failed')) break;
    await new Promise(r => setTimeout(r, 100));
  }
  console.log('chromium connectionState:', state);
  console.log('version', await page.evaluate(() => navigator.userAgent));
  await ctx.close(); srv.close(); peer.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (LIVE) process.exit(state === 'connected' && peer.lines.some(l => l.startsWith('CONNECTED')) ? 0 : 1);
})().catch(e => { console.error(e); process.exit(1); });
