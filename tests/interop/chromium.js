// chromium.js: how the interop harness launches headless Chromium (Debian's
// /usr/bin/chromium through playwright-core), shared by chromium_peer.js and
// element/element_peer.js, and how a page gets its scripts (served by
// page.route from local files, nothing fetched from a network).
'use strict';
const fs = require('fs');
const path = require('path');

function loadPlaywright(who) {
  try {
    return require('playwright-core');
  } catch (e) {
    process.stderr.write(`${who}: playwright-core is missing: run \`npm ci --prefix tests/interop\` (scripts/test.sh does)\n`);
    process.exit(1);
  }
}

// Features disabled in one list: Chromium honours only the last
// --disable-features flag, and ours comes after Playwright's. The ones that
// matter: no background requests (optimisation hints, network time, search
// preconnects), and with mdns 'off', raw IP host candidates.
function chromiumArgs({ mdns = 'on' } = {}) {
  const disabled = ['OptimizationHints', 'NetworkTimeServiceQuerying', 'AimEnabled',
                    'PreconnectToSearch', 'MediaRouter', 'Translate', 'HttpsUpgrades',
                    'PaintHolding'];
  if (mdns === 'off') disabled.push('WebRtcHideLocalIpsWithMdns');
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    // Start-up lookups stay off the network; *.local must stay resolvable
    // (the peer's mDNS host candidates), and so must 127.0.0.1 (Synapse).
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

// A persistent context in userDataDir (a fresh temporary directory).
async function launchChromium(chromium, userDataDir, opts = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.MXRTC_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs(opts),
  });
}

// Serves `files` ({ url: absolute path or { body } }) and `html` at pageUrl;
// every other request is aborted, except those that pass(url) lets through
// to the network (the homeserver).
async function routePage(page, pageUrl, html, files, pass = () => false) {
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u === pageUrl) return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    if (Object.prototype.hasOwnProperty.call(files, u)) {
      const f = files[u];
      return route.fulfill({ status: 200, contentType: 'text/javascript',
                             body: typeof f === 'string' ? fs.readFileSync(f, 'utf8') : f.body });
    }
    if (pass(u)) return route.continue();
    return route.abort();
  });
}

const MEASURE_JS = path.join(__dirname, 'media_measure.js');

module.exports = { loadPlaywright, chromiumArgs, launchChromium, routePage, MEASURE_JS };
