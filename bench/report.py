#!/usr/bin/env python3
"""report.py: the Markdown of sections 1, 3 and 6 of BENCHMARKS.md from the
raw outputs bench/run.sh leaves in RAW (build-bench/bench-raw/):

  connect_{mxrtc,webrtcbin,chromium}.txt   bench_connect, webrtcbin_peer
                                           connect, chromium_connect.js
  call_{mxrtc,webrtcbin,chromium}_{audio,video}.jsonl   bench/call.js
  section6.json                            optional (bench/README.md)

  report.py RAW CONNECT_RUNS CALL_SECONDS

writes RAW/md_{summary1,summary3,summary6,section1,section3,section6,target4f}.md
for run.sh to paste. Missing inputs are reported as missing, never guessed.
"""
import json
import os
import re
import statistics
import sys

RAW, RUNS, SECONDS = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
STACKS = [("mxrtc", "mxrtc↔mxrtc"), ("webrtcbin", "webrtcbin↔webrtcbin"), ("chromium", "Chromium↔Chromium")]


def write(name, text):
    with open(os.path.join(RAW, f"md_{name}.md"), "w") as f:
        f.write(text.rstrip("\n") + "\n")


def ratio(a, b):
    return a / b if a is not None and b else None


def fr(r):
    return "n/a" if r is None else f"{r:.2f}×"


def verdict(r, target):
    if r is None:
        return "not measured"
    return "met" if r <= target else "**missed**"


# ---- section 1 ----------------------------------------------------------------
def read_connect(stack):
    path = os.path.join(RAW, f"connect_{stack}.txt")
    if not os.path.exists(path):
        return None
    runs, failed = [], 0
    with open(path) as f:
        for line in f:
            m = re.match(r"run (\d+): (.*)", line.strip())
            if not m:
                continue
            if m.group(2) == "failed":
                failed += 1
                continue
            runs.append({k: float(v) for k, v in re.findall(r"(\w+)=([-0-9.]+)", m.group(2))})
    return {"runs": runs, "failed": failed, "text": open(path).read()}


con = {s: read_connect(s) for s, _ in STACKS}


def med(stack, field="connect_ms"):
    c = con.get(stack)
    if not c or not c["runs"]:
        return None
    vals = [r[field] for r in c["runs"] if field in r and r[field] >= 0]
    return statistics.median(vals) if vals else None


cm, cw, cc = med("mxrtc"), med("webrtcbin"), med("chromium")
r1c, r1w = ratio(cm, cc), ratio(cm, cw)
fmt_ms = lambda v: "not measured" if v is None else f"{v:.1f} ms"
write("summary1",
      f"| 1 | Connect time on loopback: offer created → first decrypted media packet on the answerer, "
      f"median of {RUNS} | {fmt_ms(cm)} | Chromium↔Chromium (one page): {fmt_ms(cc)}; "
      f"webrtcbin↔webrtcbin (one process): {fmt_ms(cw)} | {fr(r1c)} Chromium; {fr(r1w)} webrtcbin | "
      f"≤ 0.3× Chromium ({verdict(r1c, 0.3)}), ≤ 0.5× webrtcbin ({verdict(r1w, 0.5)}) | "
      f"`build-bench/bench/bench_connect {RUNS}`, `node bench/chromium_connect.js {RUNS}`, "
      f"`build-bench/bench/webrtcbin_peer connect {RUNS}` |")

rows = []
for s, label in STACKS:
    c = con[s]
    if not c or not c["runs"]:
        rows.append(f"| {label} | not measured | | | | |")
        continue
    v = [r["connect_ms"] for r in c["runs"]]
    ref = {"mxrtc": ("connected_ms", "CONNECTED state"), "webrtcbin": ("ice_connected_ms", "ICE connected"),
           "chromium": ("connected_ms", "connectionState connected")}[s]
    rows.append(f"| {label} | **{statistics.median(v):.1f} ms** | {min(v):.1f} | {max(v):.1f} | "
                f"{len(v)} ({c['failed']} failed) | {ref[1]}: {fmt_ms(med(s, ref[0]))} |")
notes = []
if cm is not None and (r1c is not None and r1c > 0.3 or r1w is not None and r1w > 0.5):
    notes.append("**The targets are missed** where the summary says so: mxrtc connects more slowly than "
                 "the stacks it is compared with on this machine. The comparison was not tuned: every "
                 "stack runs with its defaults (no STUN/TURN server, host candidates only).")
extra = ""
if con["webrtcbin"] and con["webrtcbin"]["runs"]:
    extra += (f"\nwebrtcbin's first buffer *after* rtpbin's jitter buffer (what an application gets on "
              f"webrtcbin's src pad) comes later: median {med('webrtcbin', 'pad_ms'):.1f} ms.\n")
if con["chromium"] and con["chromium"]["runs"]:
    extra += (f"\nChromium's getStats() view of the same packet (inbound-rtp packetsReceived > 0): median "
              f"{fmt_ms(med('chromium', 'stats_ms'))}; late by up to 50 ms because Chromium serves a cached "
              f"stats report, which is why the 'unmute' event is the figure.\n")
# mxrtc's phases from the traced runs (MXRTC_BENCH_LOG=1 bench_connect 3).
tp = os.path.join(RAW, "connect_mxrtc_trace.log")
if os.path.exists(tp):
    phases, cur = [], {}
    for line in open(tp):
        m = re.match(r"\[answerer +([0-9.]+) ms\] (\w+): (.*)", line)
        if m and m.group(2) == "ice" and m.group(3).startswith("selected") and "ice" not in cur:
            cur["ice"] = float(m.group(1))
        if m and m.group(2) == "dtls" and m.group(3).startswith("DTLS connected") and "dtls" not in cur:
            cur["dtls"] = float(m.group(1))
        r = re.match(r"run \d+: connect_ms=([0-9.]+)", line)
        if r:
            cur["first"] = float(r.group(1))
            if len(cur) == 3:
                phases.append(cur)
            cur = {}
    if phases:
        ice = statistics.median(p["ice"] for p in phases)
        dtls = statistics.median(p["dtls"] - p["ice"] for p in phases)
        first = statistics.median(p["first"] - p["dtls"] for p in phases)
        extra += (f"\nWhere mxrtc's time goes (answerer's debug log, {len(phases)} extra runs with "
                  f"`MXRTC_BENCH_LOG=1`, medians): offer → ICE pair selected **{ice:.1f} ms**; → DTLS "
                  f"handshake done **{dtls:.1f} ms** more; → first decrypted packet {first:.1f} ms more. "
                  f"mxrtc's ICE agent paces its checks at Ta = 50 ms (RFC 8445 §14.2, ice/agent.c) and "
                  f"nominates regularly (§8.1.1): the pair is selected only after a further check carrying "
                  f"USE-CANDIDATE, sent once the other pairs are checked (or after its 500 ms nomination "
                  f"delay); the DTLS handshake (mbedTLS, ECDHE-ECDSA) takes most of the rest. The stacks compared get through ICE + DTLS in the time their "
                  f"'connected' column shows.\n")
raw1 = ""
for s, label in STACKS:
    c = con[s]
    if c:
        raw1 += f"\n{label}:\n\n```\n{c['text'].strip()}\n```\n"
write("section1", f"""## 1. Connect time on loopback

From the offer being created to the first media packet decrypted on the
answering side, each stack against itself, both ends on this machine, one
Opus audio stream each way (a tone), no STUN or TURN server (host
candidates of this machine's interfaces; packets to the machine's own
addresses go through the kernel's loopback path). {RUNS} runs one after
another, each with new peers; median. Section 1's three programs run one
after another, never at the same time.

| Stack | Median | Min | Max | Runs | For reference (median) |
|---|---|---|---|---|---|
{chr(10).join(rows)}

What each figure is, exactly:

- **mxrtc** (`bench/bench_connect.c`): two peers in one process, each on
  its own net/ runner (own UDP sockets, own I/O thread, as `mxrtc peer`),
  signalled in memory. Clock: just before `mxrtc_peer_create_offer` on the
  offerer → the answerer's statistics first count a received audio packet,
  read right after handling the datagram that carried it (the engine's
  datagram input is wrapped: exact to the datagram, no polling).
- **webrtcbin** (`bench/webrtcbin_peer.c connect`): two webrtcbin in one
  process (GStreamer {os.environ.get('GSTV', '')}), signalled in memory;
  ICE by libnice over UDP. Clock: emitting `create-offer` → the first
  buffer leaving the answering webrtcbin's `srtpdec` (a pad probe on its
  `rtp_src`, i.e. the first decrypted RTP packet, before rtpbin's jitter
  buffer).
- **Chromium** (`bench/chromium_connect.js`): two RTCPeerConnections in one
  headless page ({os.environ.get('CHROMIUMV', 'Chromium')}), signalled in the
  page, raw IP host candidates (mDNS obfuscation off, as the other two have
  none). Clock: `performance.now()` before `createOffer()` → the answerer's
  remote track fires `unmute`: receive tracks start muted and are unmuted
  when media first arrives on them, which is after the first packet has
  been decrypted (Chromium may do it at the packet or at the first decoded
  audio; either way no earlier). The web API has no event for the
  decryption itself, so this is an upper bound of Chromium's true figure (the packet cannot be decrypted
  before `connectionState` is `connected`, the lower bound in the table);
  the ratio against Chromium is therefore, if anything, flattering to mxrtc.
{extra}
{chr(10).join(notes)}

Raw output:
{raw1}""")


# ---- section 3 ----------------------------------------------------------------
def read_call(stack, kind):
    path = os.path.join(RAW, f"call_{stack}_{kind}.jsonl")
    if not os.path.exists(path):
        return None
    sides = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                sides.append(json.loads(line))
    return sides if len(sides) == 2 else None


calls = {(s, k): read_call(s, k) for s, _ in STACKS for k in ("audio", "video")}


def per_side(stack, kind, field):
    c = calls.get((stack, kind))
    if not c or any(x.get("status") for x in c):
        return None
    if field == "cpu_pct":  # media window, % of one core
        if not all(x["window_s"] for x in c):
            return None
        return statistics.mean(100 * x["cpu_window_s"] / x["window_s"] for x in c)
    return statistics.mean(x[field] for x in c)


MB = lambda kb: None if kb is None else kb / 1024
fmb = lambda v: "not measured" if v is None else f"{v:.1f} MB"
fs = lambda v: "not measured" if v is None else f"{v:.2f} s"
S = int(SECONDS) if SECONDS == int(SECONDS) else SECONDS
summ = []
for kind, tag, label in (("audio", "3a", "Opus 48 kHz audio call"),
                         ("video", "3b", "640x480@30 VP8 + Opus call")):
    m, w, c = (per_side(s, kind, "cpu_s") for s in ("mxrtc", "webrtcbin", "chromium"))
    rw, rc = ratio(m, w), ratio(m, c)
    # The same over the media-only window (steady state, set-up excluded).
    mw, ww, cw_ = (per_side(s, kind, "cpu_pct") for s in ("mxrtc", "webrtcbin", "chromium"))
    qw, qc = ratio(mw, ww), ratio(mw, cw_)
    fp = lambda v: "not measured" if v is None else f"{v:.1f} %"
    tgt = (f"≤ 0.5× webrtcbin (whole process: {verdict(rw, 0.5)}; media only: {verdict(qw, 0.5)}), "
           f"≤ 0.3× Chromium (whole process: {verdict(rc, 0.3)}; media only: {verdict(qc, 0.3)})"
           if kind == "audio" else "— (the issue sets none)")
    summ.append(f"| {tag} | CPU time per call side, {label}, {S} s (user+sys, mean of the two sides): whole "
                f"process from start to hang-up; and media only, in % of one core from 5 s after the answer "
                f"| {fs(m)}; {fp(mw)} | webrtcbin {fs(w)}; {fp(ww)}. Chromium (its browser processes) "
                f"{fs(c)}; {fp(cw_)} | whole process: {fr(rw)} webrtcbin, {fr(rc)} Chromium; media only: "
                f"{fr(qw)} webrtcbin, {fr(qc)} Chromium | {tgt} | `node bench/call.js --seconds {S} ...` "
                f"(section 3) |")
for kind, tag, label in (("audio", "3c", "audio call"), ("video", "3d", "video call")):
    m, w = MB(per_side("mxrtc", kind, "hwm_rss_kb")), MB(per_side("webrtcbin", kind, "hwm_rss_kb"))
    mp, cp = MB(per_side("mxrtc", kind, "peak_pss_kb")), MB(per_side("chromium", kind, "peak_pss_kb"))
    rw, rc = ratio(m, w), ratio(mp, cp)
    summ.append(f"| {tag} | Peak memory of a call process, {label} (peak RSS, the kernel's VmHWM; mean of "
                f"the two sides) | {fmb(m)} (PSS {fmb(mp)}) | webrtcbin {fmb(w)}; Chromium PSS summed over "
                f"its processes {fmb(cp)} | {fr(rw)} webrtcbin; {fr(rc)} Chromium (PSS against PSS) | "
                f"≤ 0.25× webrtcbin ({verdict(rw, 0.25)}) | same |")
write("summary3", "\n".join(summ))
ra = ratio(MB(per_side("mxrtc", "audio", "hwm_rss_kb")), MB(per_side("webrtcbin", "audio", "hwm_rss_kb")))
rv = ratio(MB(per_side("mxrtc", "video", "hwm_rss_kb")), MB(per_side("webrtcbin", "video", "hwm_rss_kb")))
write("target4f", f"≤ 0.25× webrtcbin per call process: measured as peak RSS in 3c/3d ({fr(ra)} audio call, "
      f"{fr(rv)} video call); this row is heap only, two peers")


def at_hangup(stack, kind, side):
    """What the side's own log says it received by the end of the call (mxrtc:
    its last once-a-second stats line; webrtcbin: its counts at bye)."""
    lp = os.path.join(RAW, f"call_{stack}_{kind}.log")
    if not os.path.exists(lp):
        return ""
    last = ""
    for line in open(lp, errors="replace"):
        if not line.startswith(f"[{side}]"):
            continue
        m = re.search(r"([0-9.]+) s connected .* pkts in a(\d+)/v(\d+) frames (\d+)", line)
        if stack == "mxrtc" and m:
            last = f"; by {float(m.group(1)):.0f} s: {m.group(2)} audio packets" + (
                f", {m.group(4)} frames decoded" if kind == "video" else "")
        m = re.search(r"audio buffers decoded (\d+), video frames decoded (\d+)", line)
        if stack == "webrtcbin" and m:
            last = f"; at hang-up: {m.group(1)} audio buffers" + (
                f", {m.group(2)} frames decoded" if kind == "video" else "")
    return last


def check(stack, r):
    if not r:
        return "no result line"
    if stack == "webrtcbin":
        return "audio{} decoded".format(" and video" if r.get("video_frames_decoded") else "")
    out = []
    if "audio_hz" in r:
        out.append(f"tone {r['audio_hz']} Hz")
    if "video_rgb" in r:
        out.append("colour " + ",".join(str(x) for x in r["video_rgb"]))
    return ", ".join(out) or "result written"


trows = []
for kind in ("audio", "video"):
    for s, label in STACKS:
        c = calls[(s, kind)]
        if not c:
            trows.append(f"| {kind} | {label} | — | not measured | | | | | | |")
            continue
        for x in c:
            pct = 100 * x["cpu_window_s"] / x["window_s"] if x["window_s"] else 0
            bad = "" if not x.get("status") else " (call failed)"
            trows.append(f"| {kind} | {label}{bad} | {x['side']} | {x['cpu_s']:.2f} | {x['cpu_window_s']:.2f} s in "
                         f"{x['window_s']:.0f} s = {pct:.1f} % | {x['hwm_rss_kb'] / 1024:.1f} | "
                         f"{x['peak_rss_kb'] / 1024:.1f} | {x['peak_pss_kb'] / 1024:.1f} | {x['processes']} | "
                         f"{check(s, x.get('result'))}{at_hangup(s, kind, x['side'])} |")
miss = []
for kind in ("audio", "video"):
    rm = ratio(per_side("mxrtc", kind, "hwm_rss_kb"), per_side("webrtcbin", kind, "hwm_rss_kb"))
    if rm is not None and rm > 0.25:
        miss.append(f"peak memory of {'an audio' if kind == 'audio' else 'a video'} call process is {rm:.2f}× webrtcbin's (target ≤ 0.25×)")
qa = ratio(per_side("mxrtc", "audio", "cpu_pct"), per_side("webrtcbin", "audio", "cpu_pct"))
if qa is not None and qa > 0.5:
    miss.append(f"media-only CPU of an audio call side is {qa:.2f}× webrtcbin's (target ≤ 0.5×)")
wa = ratio(per_side("mxrtc", "audio", "cpu_s"), per_side("webrtcbin", "audio", "cpu_s"))
if wa is not None and wa > 0.5:
    miss.append(f"whole-process CPU of an audio call side is {wa:.2f}× webrtcbin's (target ≤ 0.5×)")
for lab, k, t in (("whole-process", "cpu_s", 0.3), ("media-only", "cpu_pct", 0.3)):
    r = ratio(per_side("mxrtc", "audio", k), per_side("chromium", "audio", k))
    if r is not None and r > t:
        miss.append(f"{lab} CPU of an audio call side is {r:.2f}× Chromium's (target ≤ 0.3×)")
cp3 = os.path.join(RAW, "commands3.txt")
cmds = open(cp3).read().strip() if os.path.exists(cp3) else "(not recorded)"
misses = ("**Targets missed in this run**: " + "; ".join(miss) + ".") if miss else "Every section 3 target was met in this run."
write("section3", f"""## 3. CPU time and peak memory of {S} s calls

Each call is two processes on this machine, one per side, started by
`bench/call.js`, which relays their JSON-lines signalling
(docs/interop.md) and reads `/proc` every 200 ms. The call is timed from the
answer being relayed; {S} s later a last sample is taken and both sides are
told `bye`. The six calls run one after another, never two at once.

Same media for every stack: a 440 Hz tone as Opus 48 kHz mono, and for the
video call also a solid-colour (51,102,204) 640x480 picture at 30 fps as VP8,
each way; loopback, host candidates only, no STUN/TURN.

- **mxrtc**: `build-bench/tools/mxrtc peer --audio-hz 440 [--video-rgb
  51,102,204 --video-size 640x480]` (Opus 32 kbit/s, VP8 at 800 kbit/s
  target, libvpx realtime), one process. Received audio is pulled every
  10 ms, received video decoded (and its colour checked once).
- **webrtcbin**: `build-bench/bench/webrtcbin_peer call [--video 640x480]`,
  one process: `audiotestsrc ! opusenc bitrate=32000 ! rtpopuspay`, `videotestsrc
  pattern=solid-color ! vp8enc deadline=1 target-bitrate=800000 ! rtpvp8pay`
  into webrtcbin (max-bundle); received streams depayloaded and decoded into
  `fakesink sync=true`.
- **Chromium**: `node tests/interop/chromium_peer.js --audio-hz 440
  [--video-rgb 51,102,204 --video-size 640x480] --mdns off`: a WebAudio
  oscillator and a 640x480 canvas repainted every 33 ms
  (`captureStream(30)`), Chromium's own bitrate control. Counted: every
  Chromium process of that browser (browser, renderer, GPU process run as
  software with `--disable-gpu`, network, audio and storage services...),
  **not** the Node.js process that drives it through Playwright (harness).
  The page plays the received video in a `<video>` element (headless
  software compositing) and the received audio in a muted `<audio>` element
  into WebAudio: what a browser call does. mxrtc and webrtcbin decode and
  drop.

The commands, in the order they ran (each side gets `--offer`/`--answer`
and `--name A`/`B` appended):

```
{cmds}
```

Columns: *CPU* is user+system time of the side's processes from their
start to the end of the call (`/proc/PID/stat`; set-up included, the figure
the summary uses); *media window* the same from 5 s after the answer to
the end (steady state, % of one core); *VmHWM* the kernel's peak RSS, summed
over a side's processes (exact for one process; for Chromium a sum of
per-process peaks, an upper bound); *peak RSS* and *peak PSS* the largest
summed RSS and PSS (`smaps_rollup`: shared pages divided among the processes
mapping them) seen in the samples. Memory is in MB (2^20 bytes). *Media
check*: the side's own result line (the received tone's frequency and the
received colour, measured in the first seconds) and, for mxrtc and
webrtcbin, what its log says it had received by the end of the call
(Chromium's page reports no end-of-call count).

| Call | Stack | Side | CPU (s) | Media window | VmHWM | Peak RSS | Peak PSS | Processes | Media check |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(trows)}

The two CPU figures answer different questions: the whole-process figure
is what a call costs from launching the peer to hanging up (webrtcbin's
includes GStreamer's start-up and plugin loading, Chromium's launching the
browser); the media-only figure is the steady state of a call in progress,
where start-up no longer counts. The summary gives a verdict on both.

{misses}

Other work ran on this machine during the run (other sessions share its
{os.cpu_count()} cores); the figures are compared side by side within one run, one
call at a time, not against another day's numbers.
""")

# ---- section 6 ----------------------------------------------------------------
p6 = os.path.join(RAW, "section6.json")
if os.path.exists(p6):
    j = json.load(open(p6))
    mx, el = j.get("mxrtc_ms") or [], j.get("element_ms") or []
    m6 = statistics.median(mx) if mx else None
    e6 = statistics.median(el) if el else None
    r6 = ratio(m6, e6)
    def callee(v):
        return f"median {fmt_ms(statistics.median(v))} of {len(v)}" if v else "no figure"
    write("summary6", f"| 6 | Matrix invite → first decoded audio, median of {len(mx)} | {fmt_ms(m6)} | "
          f"Element↔Element: {fmt_ms(e6)} (median of {len(el)}) | {fr(r6)} | ≤ 0.5× ({verdict(r6, 0.5)}) | "
          f"{j.get('command', '—')} |")
    write("section6", f"""## 6. Call setup over Matrix

{j.get('method', '').strip()}

mxrtc runs (ms): {', '.join(f'{v:.0f}' for v in mx)}

Element runs (ms): {', '.join(f'{v:.0f}' for v in el)}

Callee (Element) from the invite received, for reference: with mxrtc calling
{callee(j.get('mxrtc_callee_ms'))}; with Element calling {callee(j.get('element_callee_ms'))}.
""")
else:
    write("summary6", "| 6 | Matrix invite → first decoded audio | not measured yet | Element↔Element | — | ≤ 0.5× | — |")
    write("section6", """## 6. Call setup over Matrix — not measured yet

Needs: the matrix/ call layer placing a call through the local Synapse
(tests/synapse) to Element Web, timed from the invite being sent to the first
decoded audio frame, against two Element (matrix-js-sdk) pages calling each
other, median of 20. No figure yet; `bench/run.sh` includes one as soon as
`bench/section6.sh` exists (bench/README.md).""")
