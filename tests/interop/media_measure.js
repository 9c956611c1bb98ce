// media_measure.js: the synthetic media sources and the measurements shared
// by the browser pages (page.js for chromium_peer.js, element/page.js for
// element_peer.js). A plain script: it sets window.MxMedia.
//
//   MxMedia.toneTrack(ac, hz)          a sine of hz (amplitude 0.5) as an audio track
//   MxMedia.colourTrack([r, g, b], [w, h])  a solid colour (default 320x240) as a 30 fps video track
//   new MxMedia.AudioMeter(ac, track)  received audio: level(), firstAudio(), toneHz()
//   MxMedia.measureColour(track, ms)   received colour: mean RGB 1.5 s after the first frame
'use strict';
(() => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // -40 dBFS: the "first audio" threshold (RMS of the analyser's window).
  const AUDIO_RMS = 0.01;

  // A pure tone: the receiver finds its frequency again after Opus.
  function toneTrack(ac, hz) {
    const osc = ac.createOscillator();
    osc.type = 'sine';
    osc.frequency.value = hz;
    const gain = ac.createGain();
    gain.gain.value = 0.5;
    const dst = ac.createMediaStreamDestination();
    osc.connect(gain).connect(dst);
    osc.start();
    return dst.stream.getAudioTracks()[0];
  }

  // A solid colour, repainted at 30 fps so the capture keeps producing
  // frames (a canvas stream only captures frames when the canvas changes).
  function colourTrack(rgb, size) {
    const c = document.createElement('canvas');
    [c.width, c.height] = size || [320, 240];
    const g = c.getContext('2d');
    const [r, gr, b] = rgb;
    const paint = () => { g.fillStyle = `rgb(${r},${gr},${b})`; g.fillRect(0, 0, c.width, c.height); };
    paint();
    setInterval(paint, 33);
    return c.captureStream(30).getVideoTracks()[0];
  }

  // Received audio through an AnalyserNode (16384-point FFT at 48 kHz).
  class AudioMeter {
    constructor(ac, track) {
      this.ac = ac;
      const stream = new MediaStream([track]);
      // Chrome only feeds a remote track into WebAudio once the track is also
      // attached to a media element; keep that element muted.
      this.el = new Audio();
      this.el.muted = true;
      this.el.srcObject = stream;
      this.el.play().catch(() => {});
      this.src = ac.createMediaStreamSource(stream);
      this.an = ac.createAnalyser();
      this.an.fftSize = 16384;
      this.an.smoothingTimeConstant = 0;
      this.src.connect(this.an);
      this.td = new Float32Array(this.an.fftSize);
    }
    // RMS of the last fftSize samples (341 ms).
    level() {
      this.an.getFloatTimeDomainData(this.td);
      let e = 0;
      for (let i = 0; i < this.td.length; i++) e += this.td[i] * this.td[i];
      return Math.sqrt(e / this.td.length);
    }
    heard() { return this.level() > AUDIO_RMS; }
    // Resolves with performance.now() of the first window above -40 dBFS,
    // or null at the deadline (a performance.now() value). Polls every 5 ms.
    async firstAudio(deadline) {
      while (performance.now() < deadline) {
        if (this.heard()) return performance.now();
        await sleep(5);
      }
      return null;
    }
    // Dominant frequency: average the analyser's magnitude spectrum over a
    // number of frames, take the peak bin and refine it by fitting a parabola
    // to the log magnitudes of the peak and its neighbours (the Blackman window
    // of AnalyserNode makes the main lobe close to a Gaussian, for which that
    // fit is exact). Call it once audio is heard: it first lets the whole FFT
    // window fill with received signal (~0.64 s), then averages for ~0.72 s.
    async toneHz() {
      const an = this.an;
      await sleep((an.fftSize / this.ac.sampleRate) * 1000 + 300);
      const n = an.frequencyBinCount;
      const acc = new Float64Array(n);
      const fd = new Float32Array(n);
      const frames = 12;
      for (let k = 0; k < frames; k++) {
        an.getFloatFrequencyData(fd);
        for (let i = 0; i < n; i++) acc[i] += Math.pow(10, fd[i] / 20);
        await sleep(60);
      }
      const binHz = this.ac.sampleRate / an.fftSize;
      let best = -1;
      for (let i = Math.ceil(50 / binHz); i < n - 1; i++) if (best < 0 || acc[i] > acc[best]) best = i;
      const a = Math.log(acc[best - 1] + 1e-20), b = Math.log(acc[best] + 1e-20), c = Math.log(acc[best + 1] + 1e-20);
      const den = a - 2 * b + c;
      const delta = den !== 0 ? 0.5 * (a - c) / den : 0;
      return Math.round((best + delta) * binHz * 100) / 100;
    }
  }

  // Received colour: draw the remote video into a canvas and average every
  // pixel, 1.5 s after the first frame (the encoder starts coarse and
  // converges). Resolves {} when no frame arrives within timeoutMs.
  async function measureColour(track, timeoutMs) {
    const v = document.createElement('video');
    v.muted = true;
    v.autoplay = true;
    v.playsInline = true;
    v.srcObject = new MediaStream([track]);
    document.body.appendChild(v);
    v.play().catch(() => {});
    const deadline = performance.now() + timeoutMs;
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

  window.MxMedia = { toneTrack, colourTrack, AudioMeter, measureColour, AUDIO_RMS };
})();
