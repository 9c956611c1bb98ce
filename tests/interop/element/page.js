// element/page.js: the in-browser half of element_peer.js: Element's call
// code (matrix-js-sdk's MatrixCall, bundled by build.js as window.MxSdk)
// logged in to the homeserver, placing or answering one 1:1 call (MSC2746
// m.call.* events in a room) with synthetic media, and measuring what it
// receives (media_measure.js).
//
// Node talks to it through window.mxStart() (log in, initial sync, wait for
// the room: resolves {user_id, device_id}), window.mxCommand(cmd) (the
// `mxrtc call` command set: place, hangup, hold, mute, video, answer,
// reject) and window.mxResult(); the page reports through the bindings
// window.mxSend(obj) (an event line: the JSON-lines output of `mxrtc call
// --json`, docs/interop.md) and window.mxLog(text).
// Its options arrive as window.MX_CONFIG (see element_peer.js).
'use strict';
(() => {
  const cfg = window.MX_CONFIG;
  const S = window.MxSdk;
  const log = (s) => window.mxLog(String(s));
  const send = (o) => window.mxSend(o);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const now = () => performance.now();

  // ---- synthetic capture devices -------------------------------------------
  // MediaHandler asks enumerateDevices() whether there is a microphone and a
  // camera before every getUserMedia(): both exist; getUserMedia() hands out
  // clones of a tone and a colour (stopping a clone leaves the source alone).
  const ac = new AudioContext({ sampleRate: 48000 });
  const srcAudio = MxMedia.toneTrack(ac, cfg.audioHz);
  const srcVideo = MxMedia.colourTrack(cfg.videoRgb);
  navigator.mediaDevices.enumerateDevices = async () => [
    { deviceId: 'mxrtc-tone', kind: 'audioinput', label: `tone ${cfg.audioHz} Hz`, groupId: 'mxrtc' },
    { deviceId: 'mxrtc-colour', kind: 'videoinput', label: `colour ${cfg.videoRgb}`, groupId: 'mxrtc' },
  ];
  navigator.mediaDevices.getUserMedia = async (c) => {
    const s = new MediaStream();
    if (c && c.audio) s.addTrack(srcAudio.clone());
    if (c && c.video) s.addTrack(srcVideo.clone());
    return s;
  };

  let client = null;
  let me = null;
  let call = null;          // the call this page runs (a glare can replace it)
  const recs = new Map();   // call id -> what we measured and saw
  let tInvite = null;       // performance.now() of our invite sent, or theirs received

  function rec(c) {
    let r = recs.get(c.callId);
    if (!r) {
      r = { pc: null, connectedAt: null, heard: [], firstAudioAt: null, audioHz: null, video: null,
            stats: null, holdEndedAt: null, restartAt: null, restarts: 0, ufrag: { local: null, remote: null },
            localCands: new Set(), remoteCands: new Set(), remoteRejected: false, localRejected: false,
            hangupReceived: null, ringing: false, remoteMuteAt: null, remoteUnmuteAt: null,
            audioMuted: null, videoMuted: null, ended: false, attached: false, measuring: false };
      recs.set(c.callId, r);
    }
    return r;
  }

  // ---- what the peer connection does ---------------------------------------
  const ufragOf = (d) => (d && /a=ice-ufrag:(\S+)/.exec(d.sdp) || [])[1] || null;
  const candType = (line) => (/ typ (\S+)/.exec(line) || [])[1] || '?';
  function watchPc(c, pc) {
    const r = rec(c);
    r.pc = pc;
    pc.addEventListener('icecandidate', (e) => { if (e.candidate && e.candidate.candidate) r.localCands.add(candType(e.candidate.candidate)); });
    const add = pc.addIceCandidate.bind(pc);
    pc.addIceCandidate = (x) => { if (x && x.candidate) r.remoteCands.add(candType(x.candidate)); return add(x); };
    pc.addEventListener('iceconnectionstatechange', () => log(`${c.callId}: ice ${pc.iceConnectionState}`));
    // An ICE restart is a negotiation that changes the ICE credentials
    // (RFC 8445 9: new ufrag and password): note it once the offer/answer
    // exchange is complete.
    pc.addEventListener('signalingstatechange', () => {
      if (pc.signalingState === 'have-local-offer') r.offerBy = 'local';
      if (pc.signalingState === 'have-remote-offer') r.offerBy = 'remote';
      if (pc.signalingState !== 'stable') return;
      const l = ufragOf(pc.currentLocalDescription), rm = ufragOf(pc.currentRemoteDescription);
      for (const line of ((pc.currentRemoteDescription || {}).sdp || '').split(/\r?\n/))
        if (line.startsWith('a=candidate:')) r.remoteCands.add(candType(line));
      const changed = (r.ufrag.local && l !== r.ufrag.local) || (r.ufrag.remote && rm !== r.ufrag.remote);
      r.ufrag = { local: l, remote: rm };
      if (changed) {
        r.restarts++;
        r.restartAt = now();
        // by: whose offer carried the new credentials (an Element extra).
        send({ type: 'ice_restart', call_id: c.callId, by: r.offerBy || null });
      }
    });
    pc.addEventListener('track', (e) => {
      log(`${c.callId}: remote ${e.track.kind} track`);
      if (e.track.kind === 'audio' && !r.meter) measureAudio(c, r, e.track);
      if (e.track.kind === 'video' && !r.video) {
        r.video = {};
        MxMedia.measureColour(e.track, cfg.timeoutMs).then((v) => { r.video = v; });
      }
    });
  }

  // Received audio: a level sample every 20 ms (heard = above -40 dBFS over
  // the analyser's 341 ms window), then the tone's frequency after the
  // first audio.
  async function measureAudio(c, r, track) {
    r.meter = new MxMedia.AudioMeter(ac, track);
    (async () => {
      while (!r.ended) {
        if (r.meter.heard()) {
          const t = now();
          r.heard.push(t);
          if (r.firstAudioAt === null) {
            r.firstAudioAt = t;
            r.meter.toneHz().then((hz) => { r.audioHz = hz; });
          }
        }
        await sleep(20);
      }
    })();
  }
  // Audio heard later than t (plus the analyser window, so what was heard
  // before t has left it).
  const heardAfter = (r, t) => t !== null && r.heard.some((x) => x > t + 400);

  async function sampleStats(r) {
    if (!r.pc || r.pc.signalingState === 'closed') return;
    const out = { packets_received: 0, frames_decoded: 0, bytes_received: 0, packets_sent: 0 };
    const st = await r.pc.getStats();
    st.forEach((x) => {
      if (x.type === 'inbound-rtp') {
        out.packets_received += x.packetsReceived || 0;
        out.bytes_received += x.bytesReceived || 0;
        if (x.kind === 'video') out.frames_decoded += x.framesDecoded || 0;
      } else if (x.type === 'outbound-rtp') {
        out.packets_sent += x.packetsSent || 0;
      } else if (x.type === 'candidate-pair' && x.nominated && x.state === 'succeeded') {
        const l = st.get(x.localCandidateId), rm = st.get(x.remoteCandidateId);
        if (l && rm) {
          out.pair = `${l.candidateType}/${l.relayProtocol || l.protocol} -> ${rm.candidateType}/${rm.protocol}`;
          out.pair_types = [l.candidateType, rm.candidateType];
        }
      }
    });
    r.stats = out;
  }

  // ---- the call's events, in the `mxrtc call --json` vocabulary ---------------
  const CS = S.CallState;
  function endReason(c, r) {
    if (r.localRejected || r.remoteRejected) return 'rejected';
    // The SDK ends an unanswered invite itself when its lifetime is over
    // (MatrixCall.initWithInvite's ringing timer) and gives no reason.
    if (!c.hangupReason && r.ringing && !r.hangupReceived) return 'invite_timeout';
    return c.hangupReason || 'unknown_error';
  }
  function attach(c) {
    const r = rec(c);
    if (r.attached) return;
    r.attached = true;
    c.on(S.CallEvent.Error, (e) => log(`${c.callId}: call error ${e.code}: ${e.message}`));
    c.on(S.CallEvent.State, (st, old) => {
      log(`${c.callId}: state ${old} -> ${st}`);
      if (st === CS.Ringing) r.ringing = true;
      if (st === CS.InviteSent && c === call) {
        tInvite = tInvite ?? now();
        send({ type: 'invite_sent', call_id: c.callId, room_id: c.roomId });
      }
      if (st === CS.Connecting || st === CS.Connected) {
        if (st === CS.Connected && r.connectedAt === null) r.connectedAt = now();
        if (c === call) send({ type: 'state', call_id: c.callId, state: st });
      }
      if (st === CS.Ended) {
        r.ended = true;
        if (c === call) {
          send({ type: 'state', call_id: c.callId, state: 'ended', reason: endReason(c, r),
                 remote_ended: c.hangupParty === S.CallParty.Remote });
          finish();
        }
      }
    });
    c.on(S.CallEvent.Replaced, (newCall) => {
      log(`glare: ${c.callId} replaced by ${newCall.callId}`);
      if (c !== call) return;
      call = newCall;
      // Replaced before our own invite went out: the time base is their
      // invite, received just now.
      tInvite = tInvite ?? now();
      attach(newCall);
      send({ type: 'replaced', call_id: c.callId, new_call_id: newCall.callId });
    });
    // The SDK's hold naming is the other way round: isLocalOnHold() = the
    // other side put us on hold (= `remote_hold` here), isRemoteOnHold() =
    // we put them on hold (= `local_hold`).
    const hold = () => {
      if (!c.isRemoteOnHold() && !c.isLocalOnHold() && (r.lastHold || {}).any) r.holdEndedAt = now();
      r.lastHold = { any: c.isRemoteOnHold() || c.isLocalOnHold() };
      if (c === call) send({ type: 'hold', call_id: c.callId, local_hold: c.isRemoteOnHold(), remote_hold: c.isLocalOnHold() });
    };
    c.on(S.CallEvent.LocalHoldUnhold, hold);
    c.on(S.CallEvent.RemoteHoldUnhold, hold);
    c.on(S.CallEvent.FeedsChanged, () => watchFeeds(c, r));
    if (c.peerConn && !r.pc) watchPc(c, c.peerConn);
  }
  // The remote usermedia feed's mute state comes from the other side's
  // SDPStreamMetadata (m.call.sdp_stream_metadata_changed, MSC3077).
  function watchFeeds(c, r) {
    for (const f of c.getRemoteFeeds()) {
      if (f.mxWatched) continue;
      f.mxWatched = true;
      const report = () => {
        const a = f.isAudioMuted(), v = f.isVideoMuted();
        if (a === r.audioMuted && v === r.videoMuted) return;
        if (a && !r.audioMuted) r.remoteMuteAt = now();
        if (!a && r.audioMuted) r.remoteUnmuteAt = now();
        r.audioMuted = a;
        r.videoMuted = v;
        if (c === call) send({ type: 'remote_media', call_id: c.callId, audio_muted: a, video_muted: v });
      };
      f.on(S.CallFeedEvent.MuteStateChanged, report);
      report();
    }
  }

  let finished = null;
  function finish() {
    if (!finished) finished = (async () => { await sleep(50); return result(); })();
    return finished;
  }
  async function result() {
    const c = call;
    if (!c) return { type: 'result', call_id: null, end_reason: null };
    const r = rec(c);
    try { await sampleStats(r); } catch (e) { /* closed */ }
    const t0 = tInvite;
    const ms = (t) => (t === null || t0 === null ? null : Math.round(t - t0));
    const res = {
      type: 'result', call_id: c.callId,
      end_reason: c.state === CS.Ended ? endReason(c, r) : null,
      remote_ended: c.hangupParty === S.CallParty.Remote,
      audio_hz: r.audioHz, video_rgb: (r.video && r.video.video_rgb) || null,
      first_audio_ms: ms(r.firstAudioAt), connect_ms: ms(r.connectedAt),
      packets_received: r.stats ? r.stats.packets_received : 0,
      frames_decoded: r.stats ? r.stats.frames_decoded : 0,
      // Element extras
      sdk_hangup_reason: c.hangupReason ?? null, hangup_party: c.hangupParty ?? null,
      pair: r.stats ? r.stats.pair : null, pair_types: r.stats ? r.stats.pair_types : null,
      local_candidate_types: [...r.localCands], remote_candidate_types: [...r.remoteCands],
      ice_restarts: r.restarts, calls_seen: [...recs.keys()],
    };
    if (r.holdEndedAt !== null) res.audio_after_resume = heardAfter(r, r.holdEndedAt);
    if (r.restartAt !== null) res.audio_after_restart = heardAfter(r, r.restartAt);
    if (r.remoteMuteAt !== null) {
      const end = r.remoteUnmuteAt !== null && r.remoteUnmuteAt > r.remoteMuteAt ? r.remoteUnmuteAt : now();
      // Margins: the mute metadata and the silence take different paths
      // (the homeserver, the media). The sender silences its track before
      // it sends the event, and un-silences it before it sends the unmute,
      // so audio may arrive somewhat before the unmute event; and the
      // analyser window (341 ms) plus the jitter buffer still hold audio
      // after the mute event.
      const during = r.heard.filter((x) => x > r.remoteMuteAt + 800 && x < end - 600);
      res.audio_while_remote_muted = during.length > 0;
      if (r.remoteUnmuteAt !== null) res.audio_after_remote_unmute = heardAfter(r, r.remoteUnmuteAt);
    }
    return res;
  }

  // ---- start: log in, initial sync, the room ---------------------------------
  window.mxStart = async () => {
    const base = cfg.homeserver.replace(/\/+$/, '');
    let auth;
    if (cfg.accessToken) {
      const tmp = S.createClient({ baseUrl: base, accessToken: cfg.accessToken });
      const who = await tmp.whoami();
      auth = { user_id: who.user_id, access_token: cfg.accessToken, device_id: who.device_id };
    } else {
      const tmp = S.createClient({ baseUrl: base });
      auth = await tmp.loginRequest({
        type: 'm.login.password', identifier: { type: 'm.id.user', user: cfg.user },
        password: cfg.password, initial_device_display_name: `mxrtc interop Element (${cfg.name})`,
      });
    }
    me = auth.user_id;
    client = S.createClient({ baseUrl: base, userId: auth.user_id, accessToken: auth.access_token,
                              deviceId: auth.device_id, forceTURN: !!cfg.relayOnly,
                              fallbackICEServerAllowed: false });
    // Every call the SDK creates, ours or incoming, is re-emitted by the
    // client: see its peer connection from the start.
    client.on(S.CallEvent.PeerConnectionCreated, (pc, c) => watchPc(c, pc));
    client.on(S.ClientEvent.ReceivedVoipEvent, (ev) => {
      const id = ev.getContent().call_id;
      if (ev.getSender() === me || !recs.has(id)) return;
      const r = recs.get(id);
      if (ev.getType() === 'm.call.reject') r.remoteRejected = true;
      if (ev.getType() === 'm.call.hangup') r.hangupReceived = ev.getContent().reason || 'user_hangup';
    });
    client.on(S.CallEventHandlerEvent.Incoming, onIncoming);
    const synced = new Promise((resolve, reject) => {
      client.on(S.ClientEvent.Sync, (st) => {
        if (st === 'PREPARED') resolve();
        if (st === 'ERROR') reject(new Error('sync failed'));
      });
    });
    await client.startClient({ initialSyncLimit: 1 });
    await synced;
    if (cfg.relayOnly) {
      await client.checkTurnServers();
      if (!client.getTurnServers().length) throw new Error('relay only, but /voip/turnServer gave no TURN server');
    }
    if (cfg.room) {
      // The room with the other member joined (MatrixCall needs the member).
      const deadline = now() + cfg.timeoutMs;
      for (;;) {
        const room = client.getRoom(cfg.room);
        if (room && room.getMyMembership() === 'join' && room.getJoinedMemberCount() >= 2) break;
        if (now() > deadline) throw new Error(`room ${cfg.room} not joined with two members`);
        await sleep(50);
      }
    }
    return { user_id: auth.user_id, device_id: auth.device_id };
  };

  function onIncoming(c) {
    const r = rec(c);
    if (call || cfg.mode !== 'answer' || (cfg.room && c.roomId !== cfg.room)) {
      log(`incoming call ${c.callId} ignored (${call ? 'busy' : cfg.mode})`);
      return;
    }
    call = c;
    tInvite = now();
    r.ringing = true;
    attach(c);
    send({ type: 'incoming', call_id: c.callId, room_id: c.roomId,
           sender: (c.getOpponentMember() || {}).userId || null, video: c.type === 'video' });
    if (cfg.answerMode === 'answer') command({ cmd: 'answer' });
    else if (cfg.answerMode === 'reject') command({ cmd: 'reject' });
  }

  async function place() {
    const room = client.getRoom(cfg.room);
    const other = room.getJoinedMembers().map((m) => m.userId).find((u) => u !== me);
    // invitee: a 1:1 call to that user (MSC2746), which the SDK's glare
    // handling needs to match our invite against theirs.
    const c = S.createNewMatrixCall(client, cfg.room, { invitee: other });
    call = c;
    attach(c);
    if (cfg.video) await c.placeVideoCall(); else await c.placeVoiceCall();
  }

  // ---- commands (the stdin commands of `mxrtc call --commands`) -------------
  async function command(m) {
    const c = call;
    switch (m.cmd) {
      case 'place': if (!call) await place(); return true;
      case 'answer': if (c) await c.answer(true, !!cfg.video); return true;
      case 'reject': if (c) { rec(c).localRejected = true; c.reject(); } return true;
      case 'hangup':
        if (c) c.hangup(m.reason || S.CallErrorCode.UserHangup, false);
        return true;
      case 'hold': if (c) c.setRemoteOnHold(!!m.on); return true;
      case 'mute':
        if (!c) return false;
        if (typeof m.audio === 'boolean') await c.setMicrophoneMuted(m.audio);
        if (typeof m.video === 'boolean') await c.setLocalVideoMuted(m.video);
        return true;
      case 'video': if (c) await c.setLocalVideoMuted(!m.on); return true;
      default: log(`unknown command ${m.cmd}`); return false;
    }
  }
  window.mxCommand = (m) => command(m).catch((e) => { log(`command ${m.cmd}: ${e}`); return false; });
  window.mxResult = () => finish();
  window.mxConnected = () => !!(call && rec(call).connectedAt !== null);
  window.mxStop = async () => {
    if (client) client.stopClient();
    await ac.close();
    return true;
  };
  // Stats once a second while a call runs: a closed peer connection has none.
  setInterval(() => { if (call && !rec(call).ended) sampleStats(rec(call)).catch(() => {}); }, 1000);
})();
