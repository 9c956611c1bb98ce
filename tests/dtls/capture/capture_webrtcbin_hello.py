#!/usr/bin/env python3
"""GStreamer webrtcbin (Nheko's call engine) as a WebRTC offerer against a
UDP peer of ours, like capture_chromium_hello.js:

  capture (default): we answer as an ICE-lite, DTLS-passive peer and save
    the DTLS datagrams webrtcbin sends (its ClientHello) as OUT.N.bin.
  LIVE=server|client: the peer is build/tests/dtls/dtls_live_peer in that
    DTLS role; the handshake must complete.

Needs gstreamer1.0-plugins-bad, gstreamer1.0-nice, python3-gst-1.0,
gir1.2-gst-plugins-bad-1.0; run inside a namespace with a veth address
(CAPIP), as for the Chromium script.
"""
import hashlib, hmac, os, socket, struct, subprocess, sys, threading, time, zlib
import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstWebRTC', '1.0')
gi.require_version('GstSdp', '1.0')
from gi.repository import Gst, GstWebRTC, GstSdp, GLib

UFRAG, PWD = 'mxrt', 'mxrtcpasswordmxrtcpassword12'
IP = os.environ.get('CAPIP', '127.0.0.1')
LIVE = os.environ.get('LIVE')
OUT = sys.argv[1] if len(sys.argv) > 1 else '/tmp/webrtcbin_hello'
PEER = os.environ.get('PEER', os.path.join(os.path.dirname(__file__), '../../../build/tests/dtls/dtls_live_peer'))


def stun_response(req, addr):
    xma = struct.pack('!HHBBH', 0x0020, 8, 0, 1, addr[1] ^ 0x2112)
    xma += bytes(a ^ b for a, b in zip(socket.inet_aton(addr[0]), b'\x21\x12\xa4\x42'))
    hdr = struct.pack('!HH', 0x0101, 12 + 24) + req[4:20]
    mi = hmac.new(PWD.encode(), hdr + xma, hashlib.sha1).digest()
    msg = struct.pack('!HH', 0x0101, 12 + 24 + 8) + req[4:20] + xma + struct.pack('!HH', 8, 20) + mi
    crc = (zlib.crc32(msg) ^ 0x5354554e) & 0xffffffff
    return msg + struct.pack('!HHI', 0x8028, 4, crc)


class Capture:
    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((IP, 0))
        self.s.settimeout(0.2)
        self.port = self.s.getsockname()[1]
        self.fp = 'sha-256 ' + ':'.join('%02X' % ((i * 7 + 3) & 255) for i in range(32))
        self.setup = 'passive'
        self.got = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                d, a = self.s.recvfrom(65536)
            except socket.timeout:
                continue
            if d[0] < 4 and d[:2] == b'\x00\x01':
                self.s.sendto(stun_response(d, a), a)
            elif 20 <= d[0] <= 63:
                open('%s.%d.bin' % (OUT, len(self.got)), 'wb').write(d)
                self.got.append(d)
                print('dtls', len(d), d[:30].hex(), flush=True)

    def done(self):
        return len(self.got) >= 4


class Live:
    def __init__(self, remote_fp):
        self.p = subprocess.Popen([PEER, IP, LIVE, PWD, remote_fp], stdout=subprocess.PIPE, text=True)
        self.lines = []
        while True:
            l = self.p.stdout.readline().strip()
            self.lines.append(l)
            if l.startswith('PORT'):
                self.port = int(l.split()[1])
            if l.startswith('FINGERPRINT'):
                self.fp = l[len('FINGERPRINT '):]
                break
        self.setup = 'active' if LIVE == 'client' else 'passive'
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for l in self.p.stdout:
            l = l.strip()
            self.lines.append(l)
            print('peer:', l, flush=True)

    def done(self):
        return any(l.startswith(('CONNECTED', 'FAILED')) for l in self.lines)


Gst.init(None)
pipe = Gst.parse_launch(
    'webrtcbin name=w bundle-policy=max-bundle '
    'audiotestsrc is-live=true ! audioconvert ! audioresample ! opusenc ! rtpopuspay ! '
    'application/x-rtp,media=audio,encoding-name=OPUS,payload=96,clock-rate=48000 ! w.')
w = pipe.get_by_name('w')
loop = GLib.MainLoop()
state = {'peer': None}


def on_answer_set(promise, _):
    promise.wait()
    w.emit('add-ice-candidate', 0, 'candidate:1 1 UDP 2130706431 %s %d typ host' % (IP, state['peer'].port))


def on_offer(promise, _):
    promise.wait()
    reply = promise.get_reply()
    offer = reply.get_value('offer')
    if offer is None:
        print('no offer:', reply.to_string(), flush=True)
        return
    w.emit('set-local-description', offer, Gst.Promise.new())
    text = offer.sdp.as_text()
    fp = [l for l in text.split('\r\n') if l.startswith('a=fingerprint:')][0][len('a=fingerprint:'):]
    mid = [l for l in text.split('\r\n') if l.startswith('a=mid:')][0][len('a=mid:'):]
    peer = Live(fp) if LIVE else Capture()
    state['peer'] = peer
    sdp = ('v=0\r\no=- 1 2 IN IP4 {ip}\r\ns=-\r\nt=0 0\r\na=group:BUNDLE {mid}\r\na=ice-lite\r\n'
           'm=audio 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 {ip}\r\na=mid:{mid}\r\na=rtcp-mux\r\na=recvonly\r\n'
           'a=rtpmap:96 OPUS/48000/2\r\na=ice-ufrag:{u}\r\na=ice-pwd:{p}\r\na=fingerprint:{fp}\r\n'
           'a=setup:{setup}\r\na=candidate:1 1 UDP 2130706431 {ip} {port} typ host\r\n').format(
        ip=IP, mid=mid, u=UFRAG, p=PWD, fp=peer.fp, setup=peer.setup, port=peer.port)
    _, msg = GstSdp.SDPMessage.new_from_text(sdp)
    answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
    w.emit('set-remote-description', answer, Gst.Promise.new_with_change_func(on_answer_set, None))


def on_negotiation_needed(_):
    w.emit('create-offer', None, Gst.Promise.new_with_change_func(on_offer, None))


w.connect('on-negotiation-needed', on_negotiation_needed)
pipe.set_state(Gst.State.PLAYING)
t0 = time.time()


def tick():
    p = state['peer']
    st = w.get_property('connection-state')
    if (p and p.done() and (not LIVE or st == GstWebRTC.WebRTCPeerConnectionState.CONNECTED)) or time.time() - t0 > 15:
        print('webrtcbin connection-state:', st.value_nick, flush=True)
        state['ok'] = st == GstWebRTC.WebRTCPeerConnectionState.CONNECTED
        loop.quit()
        return False
    return True


GLib.timeout_add(100, tick)
loop.run()
pipe.set_state(Gst.State.NULL)
if LIVE:
    state['peer'].p.kill()
    sys.exit(0 if state.get('ok') and any(l.startswith('CONNECTED') for l in state['peer'].lines) else 1)
