// chromium_launch.js: how the interop peer (chromium_peer.js) and the
// benchmarks (bench/chromium_connect.js) start headless Chromium: one list of
// flags, one launcher, so that both measure the same browser set-up.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

// Features disabled in one list: Chromium honours only the last
// --disable-features flag, and ours comes after Playwright's. The ones that
// matter: no background requests (optimisation hints, network time, search
// preconnects), and with mdns 'off', raw IP host candidates.
function chromiumArgs(mdns) {
  const disabled = ['OptimizationHints', 'NetworkTimeServiceQuerying', 'AimEnabled',
                    'PreconnectToSearch', 'MediaRouter', 'Translate', 'HttpsUpgrades',
                    'PaintHolding'];
  if (mdns === 'off') disabled.push('WebRtcHideLocalIpsWithMdns');
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE *.local',
    `--disable-features=${disabled.join(',')}`,
  ];
  // Extra flags for debugging, e.g. MXRTC_CHROMIUM_ARGS='--enable-logging=stderr --v=1'.
  if (process.env.MXRTC_CHROMIUM_ARGS) args.push(...process.env.MXRTC_CHROMIUM_ARGS.split(/\s+/).filter(Boolean));
  // No --use-fake-ui-for-media-stream: the pages need no capture permission
  // (WebAudio and canvas sources), and without it Chrome keeps its default
  // mDNS obfuscation of host candidates, as real users' browsers do.
  return args;
}

// Launches headless Chromium with a fresh profile in a temporary directory;
// returns { browser, tmp } (the caller closes the browser and removes tmp).
async function launchChromium(chromium, mdns) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mxrtc-chromium-'));
  const browser = await chromium.launchPersistentContext(tmp, {
    executablePath: process.env.MXRTC_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs(mdns),
  });
  return { browser, tmp };
}

module.exports = { chromiumArgs, launchChromium };
