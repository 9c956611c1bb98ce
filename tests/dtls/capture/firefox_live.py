#!/usr/bin/env python3
"""Headless Firefox ESR (Debian firefox-esr) against mxrtc's DTLS endpoint.

The page does its own signalling with this script's HTTP server on
127.0.0.1; our side of the call is build/tests/dtls/dtls_live_peer
(mxrtc_dtls behind an ICE-lite STUN responder). The page is data-only (one
data channel, no getUserMedia) and reports RTCPeerConnection state to /state.

  SIDE=offer (default): Firefox offers (a=setup:actpass), posting its offer
    to /offer and getting our ICE-lite answer back. Our answer says
      ROLE=server: a=setup:passive, so Firefox is the DTLS client and mxrtc
        must reassemble Firefox's fragmented ClientHello;
      ROLE=client: a=setup:active, so mxrtc is the DTLS client.
  SIDE=answer: we offer (GET /offer), Firefox answers (POST /answer).
      ROLE=server: our offer says actpass (what mxrtc always offers) and
        Firefox must answer active, so mxrtc is the DTLS server;
      ROLE=client: our offer says active and Firefox must answer passive.
  MEDIA=1 (with SIDE=offer): instead of a data channel, Firefox sends a fake
    microphone track (Opus) and our answer accepts it sendrecv. The peer
    (LIVE_RTP_PT) unprotects Firefox's SRTP/SRTCP with the keys mxrtc
    exported and sends SRTP back; the run passes only if at least MIN_RTP
    (25) RTP packets get through each way and at least one SRTCP packet from
    Firefox, none fail, and Firefox's getStats counts ours as received
    (Firefox drops SRTP it cannot authenticate).

The run passes (exit 0) when dtls_live_peer prints CONNECTED and Firefox
reports "connected"; 1 on failure; 77 when it cannot run here (no firefox-esr,
not root). Everything runs inside a network namespace of its own (unshare -n,
so root is needed): the HTTP server on 127.0.0.1, the peer on 198.51.100.1, a
veth address inside the namespace (see IP). Firefox cannot reach any network,
and its profile's user.js also turns its background traffic off.

  firefox_live.py ROLE [PEER [DUMP]]        (SIDE in the environment)
    PEER: path of dtls_live_peer (default: build/tests/dtls/dtls_live_peer)
    DUMP: prefix; the DTLS datagrams Firefox sends are saved as DUMP.<n>.bin
          (how tests/dtls/vectors/firefox_ch_frag_rec*.bin were captured)

Bounded: the whole run gives up after TIMEOUT seconds (default 40).
"""
import ctypes, http.server, json, os, queue, re, shutil, signal, subprocess, sys, tempfile, threading, time

UFRAG, PWD = 'mxrt', 'mxrtcpasswordmxrtcpassword12'
# Without a camera/microphone grant Firefox gathers only on the "default"
# interface, which it finds by connect()ing a UDP socket towards the
# internet: in a namespace with nothing but lo that fails ("failed to find
# default addresses") and ICE fails at once. So the namespace gets a veth
# pair (both ends inside it) with a documentation-range address and a
# default route through it; packets sent that way reach only the other end.
IP = '198.51.100.1'
SKIP = 77

# Background network use off (the namespace already stops it from leaving).
USER_JS = {
    'app.update.enabled': False, 'app.update.auto': False, 'app.update.disabledForTesting': True,
    'app.update.service.enabled': False, 'app.normandy.enabled': False, 'app.normandy.api_url': '',
    'app.shield.optoutstudies.enabled': False,
    'toolkit.telemetry.enabled': False, 'toolkit.telemetry.unified': False,
    'toolkit.telemetry.server': '', 'toolkit.telemetry.archive.enabled': False,
    'datareporting.healthreport.uploadEnabled': False, 'datareporting.policy.dataSubmissionEnabled': False,
    'browser.ping-centre.telemetry': False, 'browser.discovery.enabled': False,
    'network.captive-portal-service.enabled': False, 'network.connectivity-service.enabled': False,
    'browser.safebrowsing.malware.enabled': False, 'browser.safebrowsing.phishing.enabled': False,
    'browser.safebrowsing.downloads.enabled': False, 'browser.safebrowsing.blockedURIs.enabled': False,
    'browser.safebrowsing.downloads.remote.enabled': False,
    'browser.safebrowsing.provider.google.updateURL': '', 'browser.safebrowsing.provider.google4.updateURL': '',
    'browser.safebrowsing.provider.mozilla.updateURL': '',
    'services.settings.server': 'http://127.0.0.1:9/', 'services.settings.poll_interval': 1000000000,
    'extensions.update.enabled': False, 'extensions.getAddons.cache.enabled': False,
    'extensions.systemAddon.update.enabled': False, 'extensions.blocklist.enabled': False,
    'media.gmp-manager.url': '', 'media.gmp-gmpopenh264.enabled': False, 'media.gmp-gmpopenh264.autoupdate': False,
    'media.gmp-widevinecdm.enabled': False,
    'browser.shell.checkDefaultBrowser': False, 'browser.startup.homepage_override.mstone': 'ignore',
    'startup.homepage_welcome_url': '', 'browser.aboutwelcome.enabled': False,
    'browser.newtabpage.enabled': False, 'browser.newtabpage.activity-stream.feeds.topsites': False,
    'browser.newtabpage.activity-stream.feeds.section.topstories': False,
    'browser.newtabpage.activity-stream.telemetry': False,
    'browser.region.network.url': '', 'browser.search.geoip.url': '', 'browser.search.update': False,
    'geo.enabled': False, 'network.trr.mode': 5, 'network.dns.disablePrefetch': True,
    'network.prefetch-next': False, 'network.http.speculative-parallel-limit': 0,
    'security.OCSP.enabled': 0, 'security.remote_settings.crlite_filters.enabled': False,
    # Host candidates as raw addresses, not mDNS names (an ICE-lite peer does
    # not need them, but the log is readable).
    'media.peerconnection.ice.obfuscate_host_addresses': False,
    # MEDIA=1: a fake microphone, no permission prompt.
    'media.navigator.streams.fake': True, 'media.navigator.permission.disabled': True,
}

PAGE = """<!doctype html><html><body><script>
const SIDE = '%s', MEDIA = %s;
const post = (p, o) => fetch(p, {method: 'POST', body: typeof o === 'string' ? o : JSON.stringify(o)});
(async () => {
  try {
    post('/state', {ua: navigator.userAgent});
    const pc = new RTCPeerConnection();
    pc.onconnectionstatechange = () => {
      post('/state', {state: pc.connectionState});
      if (MEDIA && pc.connectionState === 'connected')
        setInterval(async () => {
          const st = {rtp_in: 0, rtp_out: 0};
          (await pc.getStats()).forEach(r => {
            if (r.type === 'inbound-rtp') st.rtp_in = r.packetsReceived;
            if (r.type === 'outbound-rtp') st.rtp_out = r.packetsSent;
          });
          post('/state', {stats: st});
        }, 500);
    };
    pc.onicecandidate = e => post('/state', {candidate: e.candidate ? e.candidate.candidate : null});
    pc.oniceconnectionstatechange = () => post('/state', {ice: pc.iceConnectionState});
    if (SIDE === 'offer') {
      if (MEDIA) {
        const mic = await navigator.mediaDevices.getUserMedia({audio: true});
        pc.addTrack(mic.getAudioTracks()[0], mic);
      } else {
        pc.createDataChannel('x');
      }
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const answer = await (await post('/offer', offer.sdp)).text();
      await pc.setRemoteDescription({type: 'answer', sdp: answer});
    } else {
      const offer = await (await fetch('/offer')).text();
      await pc.setRemoteDescription({type: 'offer', sdp: offer});
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      await post('/answer', answer.sdp);
    }
  } catch (e) { post('/state', {error: String(e)}); }
})();
</script></body></html>"""


def die_with_parent():
    """Firefox gets SIGKILL if this script dies (e.g. ctest's timeout)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def in_netns():
    """Re-runs this script inside a new network namespace with lo up."""
    if os.environ.get('MXRTC_FF_NETNS') == '1':
        return
    if os.geteuid() != 0 or not shutil.which('unshare') or not shutil.which('ip'):
        print('SKIP: needs root, unshare and ip for a network namespace')
        sys.exit(SKIP)
    # Root without CAP_SYS_ADMIN (an unprivileged container) cannot unshare.
    if subprocess.run(['unshare', '-n', 'true'], stderr=subprocess.DEVNULL).returncode != 0:
        print('SKIP: unshare -n is not permitted here')
        sys.exit(SKIP)
    os.environ['MXRTC_FF_NETNS'] = '1'
    os.execvp('unshare', ['unshare', '-n', '--', sys.executable] + sys.argv)


def main():
    role = sys.argv[1] if len(sys.argv) > 1 else 'server'
    here = os.path.dirname(os.path.abspath(__file__))
    peer_bin = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, '../../../build/tests/dtls/dtls_live_peer')
    dump = sys.argv[3] if len(sys.argv) > 3 else None
    timeout = float(os.environ.get('TIMEOUT', '40'))
    side = os.environ.get('SIDE', 'offer')
    media = os.environ.get('MEDIA') == '1'
    min_rtp = int(os.environ.get('MIN_RTP', '25'))
    firefox = shutil.which('firefox-esr')
    if role not in ('server', 'client') or side not in ('offer', 'answer') or not os.access(peer_bin, os.X_OK) \
            or (media and side != 'offer'):
        print('usage: [SIDE=offer|answer] [MEDIA=1 (SIDE=offer only)] firefox_live.py server|client [PEER [DUMP]]')
        sys.exit(2)
    if not firefox:
        print('SKIP: firefox-esr is not installed (scripts/install-deps.sh --interop)')
        sys.exit(SKIP)
    in_netns()
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    for c in (['link', 'add', 'mxff0', 'type', 'veth', 'peer', 'name', 'mxff1'],
              ['addr', 'add', IP + '/24', 'dev', 'mxff0'], ['link', 'set', 'mxff0', 'up'],
              ['link', 'set', 'mxff1', 'up'], ['route', 'add', 'default', 'dev', 'mxff0']):
        subprocess.run(['ip'] + c, check=True)

    events = queue.Queue()
    state = {'peer': None}

    def start_peer(remote_fp, rtp_pt=None):
        """Starts dtls_live_peer; remote_fp None: it is sent on stdin later."""
        args = [peer_bin, IP, role, PWD, remote_fp or '-'] + ([dump] if dump else [])
        penv = dict(os.environ, LIVE_RTP_PT=str(rtp_pt)) if rtp_pt is not None else None
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=penv)
        state['peer'] = p
        port = fp = None
        while port is None or fp is None:
            line = p.stdout.readline()
            if not line:
                raise RuntimeError('dtls_live_peer exited')
            if line.startswith('PORT '):
                port = int(line.split()[1])
            elif line.startswith('FINGERPRINT '):
                fp = line[len('FINGERPRINT '):].strip()

        def read_rest():
            for l in p.stdout:
                events.put(('peer', l.strip()))
            events.put(('peer', 'EXIT'))
        threading.Thread(target=read_rest, daemon=True).start()
        return port, fp

    def our_sdp(mid, port, fp, setup):
        return ('v=0\r\no=- 1 2 IN IP4 %s\r\ns=-\r\nt=0 0\r\na=group:BUNDLE %s\r\na=ice-lite\r\n'
                'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 %s\r\na=mid:%s\r\n'
                'a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:%s\r\n'
                'a=sctp-port:5000\r\na=candidate:1 1 udp 2130706431 %s %d typ host\r\n'
                'a=end-of-candidates\r\n' % (IP, mid, IP, mid, UFRAG, PWD, fp, setup, IP, port))

    def on_firefox_offer(offer):
        fp_remote = re.search(r'a=fingerprint:(.*)', offer).group(1).strip()
        mid = re.search(r'a=mid:(\S+)', offer).group(1)
        setup = 'passive' if role == 'server' else 'active'
        if not media:
            port, fp = start_peer(fp_remote)
            return our_sdp(mid, port, fp, setup)
        pt = int(re.search(r'a=rtpmap:(\d+) opus/48000/2', offer).group(1))
        port, fp = start_peer(fp_remote, pt)
        return ('v=0\r\no=- 1 2 IN IP4 %s\r\ns=-\r\nt=0 0\r\na=group:BUNDLE %s\r\na=ice-lite\r\n'
                'a=msid-semantic:WMS mxrtc\r\n'
                'm=audio 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 %s\r\na=mid:%s\r\n'
                'a=rtpmap:%d opus/48000/2\r\na=rtcp-mux\r\na=sendrecv\r\na=msid:mxrtc a0\r\n'
                'a=ssrc:287454020 cname:mxrtc\r\n'
                'a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:%s\r\n'
                'a=candidate:1 1 udp 2130706431 %s %d typ host\r\na=end-of-candidates\r\n'
                % (IP, mid, pt, IP, mid, pt, UFRAG, PWD, fp, setup, IP, port))

    def make_offer():
        port, fp = start_peer(None)
        return our_sdp('0', port, fp, 'actpass' if role == 'server' else 'active')

    def on_firefox_answer(answer):
        # RFC 5763 §5: the answerer's setup decides the roles.
        want = 'active' if role == 'server' else 'passive'
        got = re.search(r'a=setup:(\S+)', answer).group(1)
        if got != want:
            raise RuntimeError('Firefox answered a=setup:%s, expected %s' % (got, want))
        state['peer'].stdin.write(re.search(r'a=fingerprint:(.*)', answer).group(1).strip() + '\n')
        state['peer'].stdin.flush()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, body, ctype):
            b = body.encode()
            self.send_response(200)
            self.send_header('content-type', ctype)
            self.send_header('content-length', str(len(b)))
            self.end_headers()
            self.wfile.write(b)

        def do_GET(self):
            if self.path == '/offer':
                try:
                    sdp = make_offer()
                    events.put(('sdp', 'our offer: ' + re.search(r'a=setup:\S+', sdp).group(0)))
                    self.reply(sdp, 'application/sdp')
                except Exception as e:  # reported, then the run fails
                    events.put(('page', {'error': 'peer: %s' % e}))
                    self.reply('', 'text/plain')
            else:
                self.reply(PAGE % (side, 'true' if media else 'false'), 'text/html')

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get('content-length', 0))).decode()
            try:
                if self.path == '/offer':
                    events.put(('sdp', 'Firefox offer: ' + re.search(r'a=setup:\S+', body).group(0)))
                    self.reply(on_firefox_offer(body), 'application/sdp')
                    return
                if self.path == '/answer':
                    events.put(('sdp', 'Firefox answer: ' + re.search(r'a=setup:\S+', body).group(0)))
                    on_firefox_answer(body)
                else:
                    events.put(('page', json.loads(body)))
            except Exception as e:  # reported, then the run fails
                events.put(('page', {'error': 'signalling: %s' % e}))
            self.reply('', 'text/plain')

    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    prof = tempfile.mkdtemp(prefix='mxrtc-ff-')
    with open(os.path.join(prof, 'user.js'), 'w') as f:
        for k, v in USER_JS.items():
            f.write('user_pref(%s, %s);\n' % (json.dumps(k), json.dumps(v)))
    env = dict(os.environ, HOME=prof, MOZ_CRASHREPORTER_DISABLE='1', MOZ_HEADLESS='1')
    env.pop('DISPLAY', None)
    env.pop('WAYLAND_DISPLAY', None)
    url = 'http://127.0.0.1:%d/' % srv.server_address[1]
    ff = subprocess.Popen([firefox, '--headless', '--no-remote', '--profile', prof, url], env=env,
                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(prof, 'stderr.txt'), 'w'),
                          start_new_session=True, preexec_fn=die_with_parent)
    t0 = time.monotonic()
    peer_ok = ff_ok = False
    srtp_ok = ff_media_ok = not media
    failed = None

    def done():
        return peer_ok and ff_ok and srtp_ok and ff_media_ok
    while time.monotonic() - t0 < timeout and not done() and not failed:
        try:
            kind, ev = events.get(timeout=0.5)
        except queue.Empty:
            if ff.poll() is not None:
                failed = 'firefox exited with %d' % ff.returncode
            continue
        if kind == 'sdp':
            print(ev, flush=True)
        elif kind == 'peer':
            print('peer:', ev, flush=True)
            peer_ok = peer_ok or ev.startswith('CONNECTED')
            if ev.startswith('SRTP '):
                c = {k: int(v) for k, v in (x.split('=') for x in ev.split()[1:] if '=' in x)}
                srtp_ok = (c['rtp_in_ok'] >= min_rtp and c['rtp_out'] >= min_rtp and c['rtp_in_bad'] == 0
                           and c['rtcp_in_ok'] >= 1 and c['rtcp_in_bad'] == 0)
                if ev.endswith('END') and not srtp_ok:
                    failed = 'SRTP: ' + ev
            if ev.startswith('FAILED') or (ev == 'EXIT' and not (peer_ok and srtp_ok)):
                failed = 'dtls_live_peer: ' + ev
        else:
            print('firefox:', json.dumps(ev), flush=True)
            if ev.get('state') == 'connected':
                ff_ok = True
            if 'stats' in ev and ev['stats']['rtp_in'] >= min_rtp:
                ff_media_ok = True
            elif ev.get('state') in ('failed', 'closed') or 'error' in ev:
                failed = 'firefox: ' + json.dumps(ev)
    if not done() and not failed:
        failed = 'timeout after %.0f s (peer %s, firefox %s, srtp %s, firefox media %s)' % (
            timeout, peer_ok, ff_ok, srtp_ok, ff_media_ok)
    print('elapsed %.1f s' % (time.monotonic() - t0))
    # Only what this script started: Firefox's own process group, our peer.
    try:
        os.killpg(ff.pid, signal.SIGTERM)
        ff.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(ff.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        ff.wait()
    if state['peer'] and state['peer'].poll() is None:
        state['peer'].terminate()
        state['peer'].wait()
    srv.shutdown()
    if failed:
        print('FAIL:', failed)
        try:
            print(open(os.path.join(prof, 'stderr.txt')).read()[-3000:])
        except OSError:
            pass
    shutil.rmtree(prof, ignore_errors=True)
    print('PASS' if not failed else 'FAIL')
    sys.exit(0 if not failed else 1)


if __name__ == '__main__':
    main()
