// page.js: the in-browser half of chromium_peer.js. Runs one side of a call
// in an RTCPeerConnection with stock settings and measures what it receives.
// Talks to the Node side through two bindings: window.mxSend(obj) (a
// signalling message to write on stdout) and window.mxLog(text) (stderr);
// Node calls window.mxSignal(obj) for every message read on stdin.
// Its options arrive as window.MX_CONFIG (see chromium_peer.js).
'use strict';
(() => {
  const cfg = window.MX_CONFIG;
  const log = (s) => window.mxLog(String(s));
  const send = (o) => window.mxSend(o);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const iceServers = [];
  if (cfg.turn) {
    iceServers.push({ urls: cfg.turn, username: cfg.turnUser, credential: cfg.turnPass });
  }
  // Stock configuration: bundle and rtcp-mux are Chrome's defaults; the only
  // option we set is the relay-only policy when asked (case 3).
  const pc = new RTCPeerConnection({
    iceServers,
    iceTransportPolicy: cfg.relayOnly ? 'relay' : 'all',
  });

  // ---- local sources -------------------------------------------------------
  const ac = new AudioContext({ sampleRate: 48000 });
  const localStream = new MediaStream();
  let audioTrack = null;
  let videoTrack = null;
  if (cfg.audioHz) {
    // A pure tone: the receiver finds its frequency again after Opus.
    const osc = ac.createOscillator();
    osc.type = 'sine';
    osc.frequency.value = cfg.audioHz;
    const gain = ac.createGain();
    gain.gain.value = 0.5;
    const dst = ac.createMediaStreamDestination();
    osc.connect(gain).connect(dst);
    osc.start();
    audioTrack = dst.stream.getAudioTracks()[0];
    localStream.addTrack(audioTrack);
  }
  if (cfg.videoRgb) {
    // A solid colour, repainted at 30 fps so the capture keeps producing
    // frames (a canvas stream only captures frames when the canvas changes).
    const c = document.createElement('canvas');
    [c.width, c.height] = cfg.videoSize || [320, 240];
    const g = c.getContext('2d');
    const [r, gr, b] = cfg.videoRgb;
    const paint = () => { g.fillStyle = `rgb(${r},${gr},${b})`; g.fillRect(0, 0, c.width, c.height); };
    paint();
    setInterval(paint, 33);
    videoTrack = c.captureStream(30).getVideoTracks()[0];
    localStream.addTrack(videoTrack);
  }

  // ---- signalling ----------------------------------------------------------
  let tOffer = 0;                 // performance.now() when our offer was made or theirs arrived
  let pendingCandidates = [];     // candidates that arrived before the remote description
  let closed = false;

  pc.onicecandidate = (e) => {
    if (e.candidate && e.candidate.candidate) {
      send({ type: 'candidate', candidate: e.candidate.candidate,
             sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex });
    } else if (!e.candidate) {
      send({ type: 'end-of-candidates' });
    }
  };
  pc.onconnectionstatechange = () => log(`connection state ${pc.connectionState}`);
  pc.oniceconnectionstatechange = () => log(`ice state ${pc.iceConnectionState}`);

  async function makeOffer() {
    if (!tOffer) tOffer = performance.now();
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    send({ type: 'offer', sdp: pc.localDescription.sdp });
  }

  // The answerer sends what it has on the transceivers the offer created: a
  // local track of the same kind goes on the first free one.
  function attachLocalTracks() {
    for (const t of pc.getTransceivers()) {
      if (t.stopped || t.currentDirection === 'stopped') continue;
      const kind = t.receiver.track.kind;
      const track = kind === 'audio' ? audioTrack : videoTrack;
      if (!track || t.sender.track) continue;
      if (pc.getSenders().some((s) => s.track === track)) continue;
      t.sender.replaceTrack(track);
      t.sender.setStreams(localStream);
      t.direction = 'sendrecv';
    }
  }

  async function onSignal(m) {
    if (closed) return;
    switch (m.type) {
      case 'offer':
        if (!tOffer) tOffer = performance.now();
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        attachLocalTracks();
        await pc.setLocalDescription(await pc.createAnswer());
        send({ type: 'answer', sdp: pc.localDescription.sdp });
        await flushCandidates();
        break;
      case 'answer':
        await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        await flushCandidates();
        break;
      case 'candidate':
        pendingCandidates.push({ candidate: m.candidate, sdpMid: m.sdpMid, sdpMLineIndex: m.sdpMLineIndex });
        if (pc.remoteDescription) await flushCandidates();
        break;
      case 'end-of-candidates':
        break; // Chrome needs nothing: its checks run until they succeed or time out.
      default:
        break;
    }
  }
  async function flushCandidates() {
    const list = pendingCandidates;
    pendingCandidates = [];
    for (const c of list) {
      try { await pc.addIceCandidate(c); } catch (e) { log(`addIceCandidate: ${e}`); }
    }
  }
  // Messages are handled one at a time, in order.
  let chain = Promise.resolve();
  window.mxSignal = (m) => {
    chain = chain.then(() => onSignal(m)).catch((e) => log(`signal ${m.type}: ${e}`));
  };
  window.mxClose = () => {
    closed = true;
    pc.close();
    ac.close();
    return true;
  };

  // ---- measurement ---------------------------------------------------------
  const remote = { audio: null, video: null };
  const trackWaiters = [];
  pc.ontrack = (e) => {
    log(`remote ${e.track.kind} track`);
    remote[e.track.kind] = e.track;
    trackWaiters.splice(0).forEach((f) => f());
  };
  async function waitTrack(kind) {
    while (!remote[kind]) await new Promise((r) => trackWaiters.push(r));
    return remote[kind];
  }

  // Dominant frequency: average the analyser's magnitude spectrum over a
  // number of frames, take the peak bin and refine it by fitting a parabola
  // to the log magnitudes of the peak and its neighbours (the Blackman window
  // of AnalyserNode makes the main lobe close to a Gaussian, for which that
  // fit is exact).
  async function measureAudio() {
    const track = await waitTrack('audio');
    const stream = new MediaStream([track]);
    // Chrome only feeds a remote track into WebAudio once the track is also
    // attached to a media element; keep that element muted.
    const el = new Audio();
    el.muted = true;
    el.srcObject = stream;
    el.play().catch(() => {});
    const src = ac.createMediaStreamSource(stream);
    const an = ac.createAnalyser();
    an.fftSize = 16384;
    an.smoothingTimeConstant = 0;
    src.connect(an);
    const td = new Float32Array(an.fftSize);
    let firstMs = null;
    const deadline = performance.now() + cfg.timeoutMs;
    while (performance.now() < deadline) {
      an.getFloatTimeDomainData(td);
      let e = 0;
      for (let i = 0; i < td.length; i++) e += td[i] * td[i];
      if (Math.sqrt(e / td.length) > 0.01) { firstMs = performance.now() - tOffer; break; }
      await sleep(5);
    }
    if (firstMs === null) return { first_audio_ms: null };
    renegotiateWhenHeard();
    // Let the whole FFT window fill with received signal, then average.
    await sleep((an.fftSize / ac.sampleRate) * 1000 + 300);
    const n = an.frequencyBinCount;
    const acc = new Float64Array(n);
    const fd = new Float32Array(n);
    const frames = 12;
    for (let k = 0; k < frames; k++) {
      an.getFloatFrequencyData(fd);
      for (let i = 0; i < n; i++) acc[i] += Math.pow(10, fd[i] / 20);
      await sleep(60);
    }
    const binHz = ac.sampleRate / an.fftSize;
    let best = -1;
    for (let i = Math.ceil(50 / binHz); i < n - 1; i++) if (best < 0 || acc[i] > acc[best]) best = i;
    const a = Math.log(acc[best - 1] + 1e-20), b = Math.log(acc[best] + 1e-20), c = Math.log(acc[best + 1] + 1e-20);
    const den = a - 2 * b + c;
    const delta = den !== 0 ? 0.5 * (a - c) / den : 0;
    return { first_audio_ms: Math.round(firstMs), audio_hz: Math.round((best + delta) * binHz * 100) / 100 };
  }

  // Received colour: draw the remote video into a canvas and average every
  // pixel, after a second of frames (the encoder starts coarse and converges).
  async function measureVideo() {
    const track = await waitTrack('video');
    const v = document.createElement('video');
    v.muted = true;
    v.autoplay = true;
    v.playsInline = true;
    v.srcObject = new MediaStream([track]);
    document.body.appendChild(v);
    v.play().catch(() => {});
    const deadline = performance.now() + cfg.timeoutMs;
    while (v.videoWidth === 0 && performance.now() < deadline) await sleep(20);
    if (v.videoWidth === 0) return {};
    await sleep(1500);
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true });
    let rgb = null;
    for (let k = 0; k < 3; k++) {
      g.drawImage(v, 0, 0, c.width, c.height);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      const s = [0, 0, 0];
      for (let i = 0; i < px.length; i += 4) { s[0] += px[i]; s[1] += px[i + 1]; s[2] += px[i + 2]; }
      const cnt = px.length / 4;
      rgb = s.map((x) => Math.round(x / cnt));
      await sleep(100);
    }
    return { video_rgb: rgb, video_size: [v.videoWidth, v.videoHeight] };
  }

  // Case 4: a voice call upgraded to video once the first audio is heard.
  let renegotiated = false;
  function renegotiateWhenHeard() {
    if (!cfg.renegotiate || !cfg.offer || renegotiated || !videoTrack) return;
    renegotiated = true;
    log('renegotiating: adding video');
    pc.addTrack(videoTrack, localStream);
    chain = chain.then(makeOffer).catch((e) => log(`renegotiation: ${e}`));
  }

  async function inboundStats() {
    const out = { packets_received: 0, bytes_received: 0, frames_decoded: 0,
                  audio_packets_received: 0, video_packets_received: 0, packets_sent: 0 };
    const st = await pc.getStats();
    st.forEach((r) => {
      if (r.type === 'inbound-rtp') {
        out.packets_received += r.packetsReceived || 0;
        out.bytes_received += r.bytesReceived || 0;
        if (r.kind === 'video') { out.frames_decoded += r.framesDecoded || 0; out.video_packets_received += r.packetsReceived || 0; }
        if (r.kind === 'audio') out.audio_packets_received += r.packetsReceived || 0;
      } else if (r.type === 'outbound-rtp') {
        out.packets_sent += r.packetsSent || 0;
      } else if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') {
        const l = st.get(r.localCandidateId), rm = st.get(r.remoteCandidateId);
        if (l && rm) out.pair = `${l.candidateType}/${l.relayProtocol || l.protocol} -> ${rm.candidateType}/${rm.protocol}`;
      }
    });
    return out;
  }

  async function run() {
    if (cfg.offer) {
      if (audioTrack) pc.addTrack(audioTrack, localStream);
      if (videoTrack && !cfg.renegotiate) pc.addTrack(videoTrack, localStream);
      chain = chain.then(makeOffer).catch((e) => log(`offer: ${e}`));
    }
    const res = { type: 'result' };
    const jobs = [];
    if (cfg.audioHz) jobs.push(measureAudio().then((r) => Object.assign(res, r)));
    if (cfg.videoRgb) jobs.push(measureVideo().then((r) => Object.assign(res, r)));
    await Promise.all(jobs);
    Object.assign(res, await inboundStats());
    return res;
  }
  window.mxRun = run;
})();
