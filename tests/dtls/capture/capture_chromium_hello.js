// Captures Chromium's DTLS ClientHello datagrams: Chromium offers, we answer
// as an ICE-lite, DTLS-passive peer on a UDP socket and record what arrives.
const { chromium } = require('playwright-core');
const dgram = require('dgram'), crypto = require('crypto'), zlib = require('zlib'), fs = require('fs'), http = require('http');
const UFRAG = 'mxrt', PWD = 'mxrtcpasswordmxrtcpassword12';
const out = process.argv[2];
const sock = dgram.createSocket('udp4');
const dtls = [];
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
sock.on('message', (msg, rinfo) => {
  if (msg[0] < 4) console.log('stun', msg.readUInt16BE(0).toString(16), rinfo.address, rinfo.port);
  if (msg[0] < 4 && msg.readUInt16BE(0) === 0x0001) sock.send(stunResponse(msg, rinfo), rinfo.port, rinfo.address);
  else if (msg[0] >= 20 && msg[0] <= 63) {
    fs.writeFileSync(`${out}.${dtls.length}.bin`, msg); dtls.push(msg);
    console.log('dtls', msg.length, msg.subarray(0, 30).toString('hex'));
  }
});
(async () => {
  await new Promise(r => sock.bind(0, process.env.CAPIP || '127.0.0.1', r));
  const port = sock.address().port;
  const srv = http.createServer((q, s) => { s.setHeader('content-type', 'text/html'); s.end('<html><body>cap</body></html>'); });
  await new Promise(r => srv.listen(0, '127.0.0.1', r));
  const tmp = fs.mkdtempSync('/tmp/chr-');
  const ctx = await chromium.launchPersistentContext(tmp, { executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'] });
  const page = await ctx.newPage();
  await page.goto(`http://localhost:${srv.address().port}/`);
  const fp = Array.from({ length: 32 }, (_, i) => (i * 7 + 3).toString(16).padStart(2, '0').toUpperCase()).join(':');
  const offer = await page.evaluate(async (a) => {
    const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    window.keep = s;
    const pc = new RTCPeerConnection(); window.pc = pc;
    pc.createDataChannel('x');
    const offer = await pc.createOffer(); await pc.setLocalDescription(offer);
    const mid = /a=mid:(\S+)/.exec(offer.sdp)[1];
    const sdp = `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE ${mid}\r\na=ice-lite\r\n` +
      `m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\na=mid:${mid}\r\n` +
      `a=ice-ufrag:${a.ufrag}\r\na=ice-pwd:${a.pwd}\r\na=fingerprint:sha-256 ${a.fp}\r\na=setup:passive\r\n` +
      `a=sctp-port:5000\r\na=candidate:1 1 udp 2130706431 ${a.ip} ${a.port} typ host\r\n`;
    await pc.setRemoteDescription({ type: 'answer', sdp });
    return offer.sdp;
  }, { ufrag: UFRAG, pwd: PWD, fp, port, ip: process.env.CAPIP || '127.0.0.1' });
  console.log(offer.split('\r\n').filter(l => /setup|fingerprint|candidate/.test(l)).join('\n'));
  const t0 = Date.now();
  while (dtls.length < 4 && Date.now() - t0 < 8000) await new Promise(r => setTimeout(r, 100));
  console.log('state', await page.evaluate(() => [pc.iceConnectionState, pc.connectionState, pc.localDescription.sdp.split('\r\n').filter(l => /candidate/.test(l)).join(' | ')]));
  console.log('version', await page.evaluate(() => navigator.userAgent));
  await ctx.close(); srv.close(); sock.close();
  fs.rmSync(tmp, { recursive: true, force: true });
})().catch(e => { console.error(e); process.exit(1); });
