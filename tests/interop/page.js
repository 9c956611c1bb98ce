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
    audioTrack = MxMedia.toneTrack(ac, cfg.audioHz);
    localStream.addTrack(audioTrack);
  }
  if (cfg.videoRgb) {
    videoTrack = MxMedia.colourTrack(cfg.videoRgb, cfg.videoSize);
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

  // Tone frequency and first audio (media_measure.js).
  async function measureAudio() {
    const meter = new MxMedia.AudioMeter(ac, await waitTrack('audio'));
    const t = await meter.firstAudio(performance.now() + cfg.timeoutMs);
    if (t === null) return { first_audio_ms: null };
    const firstMs = t - tOffer;
    renegotiateWhenHeard();
    return { first_audio_ms: Math.round(firstMs), audio_hz: await meter.toneHz() };
  }

  // Received colour (media_measure.js).
  async function measureVideo() {
    return MxMedia.measureColour(await waitTrack('video'), cfg.timeoutMs);
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
