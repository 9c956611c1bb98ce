#!/usr/bin/env node
// build.js: bundles matrix-js-sdk's client and call code (sdk_entry.js) into
// one browser script for the Element page (element_peer.js), with esbuild.
//
//   node tests/interop/element/build.js [OUT_DIR]
//
// OUT_DIR defaults to $MXRTC_ELEMENT_BUILD_DIR or
// tests/interop/node_modules/.cache/mxrtc-element (never committed; it goes
// away with node_modules and is rebuilt on the next run). Idempotent and
// fast: a stamp (hash of the inputs: this file, sdk_entry.js and the
// lockfile) next to the bundle skips the build when nothing changed.
//
// Two changes to the SDK as it is published, both for the tests:
// - @matrix-org/matrix-sdk-crypto-wasm is replaced by a stub that throws:
//   the rooms are unencrypted and initRustCrypto() is never called, so the
//   wasm (and its loader) stay out of the bundle.
// - The invite lifetime, a module constant (CALL_TIMEOUT_MS = 60 s, call.js),
//   reads globalThis.MX_CALL_TIMEOUT_MS first, so a test can run an invite
//   timeout in seconds (element_peer.js --invite-lifetime, like `mxrtc call
//   --invite-lifetime`). Unset, the SDK behaves as published. The build
//   fails if that line is not found (another SDK version: look again).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const HERE = __dirname;
const ROOT = path.resolve(HERE, '..');
const DEFAULT_OUT = process.env.MXRTC_ELEMENT_BUILD_DIR || path.join(ROOT, 'node_modules', '.cache', 'mxrtc-element');
const BUNDLE = 'matrix-sdk.js';
const TIMEOUT_LINE = 'const CALL_TIMEOUT_MS = 60 * 1000;';

function inputsHash() {
  const h = crypto.createHash('sha256');
  for (const f of [__filename, path.join(HERE, 'sdk_entry.js'), path.join(ROOT, 'package-lock.json')])
    h.update(fs.readFileSync(f));
  return h.digest('hex');
}

// Returns the bundle's path, building it first when the stamp is stale.
async function build(outDir = DEFAULT_OUT) {
  const out = path.join(outDir, BUNDLE);
  const stampFile = path.join(outDir, 'stamp');
  const hash = inputsHash();
  if (fs.existsSync(out) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === hash) return out;
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch (e) {
    throw new Error('esbuild is missing: run `npm ci --prefix tests/interop` (scripts/test.sh does)');
  }
  fs.mkdirSync(outDir, { recursive: true });
  let patched = false;
  const plugin = {
    name: 'mxrtc-element',
    setup(b) {
      b.onResolve({ filter: /^@matrix-org\/matrix-sdk-crypto-wasm/ }, (a) => ({ path: a.path, namespace: 'mx-stub' }));
      b.onLoad({ filter: /.*/, namespace: 'mx-stub' }, () => ({
        contents: 'throw new Error("matrix-sdk-crypto-wasm is not bundled (mxrtc tests use unencrypted rooms)");',
        loader: 'js',
      }));
      b.onLoad({ filter: /matrix-js-sdk[\\/]lib[\\/]webrtc[\\/]call\.js$/ }, (a) => {
        const src = fs.readFileSync(a.path, 'utf8');
        if (!src.includes(TIMEOUT_LINE)) return { errors: [{ text: `${TIMEOUT_LINE} not found in ${a.path}` }] };
        patched = true;
        return {
          contents: src.replace(TIMEOUT_LINE,
            'const CALL_TIMEOUT_MS = globalThis.MX_CALL_TIMEOUT_MS ?? 60 * 1000; // mxrtc tests: build.js'),
          loader: 'js',
        };
      });
    },
  };
  const tmp = `${out}.tmp${process.pid}`;
  await esbuild.build({
    entryPoints: [path.join(HERE, 'sdk_entry.js')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    outfile: tmp,
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    plugins: [plugin],
    logLevel: 'error',
    legalComments: 'none',
  });
  if (!patched) throw new Error('build.js: webrtc/call.js was not bundled');
  fs.renameSync(tmp, out);
  fs.writeFileSync(stampFile, hash);
  return out;
}

module.exports = { build, DEFAULT_OUT };

if (require.main === module) {
  const t = Date.now();
  build(process.argv[2] || DEFAULT_OUT).then((p) => {
    process.stdout.write(`${p} (${Math.round(fs.statSync(p).size / 1024)} KiB, ${Date.now() - t} ms)\n`);
  }, (e) => { process.stderr.write(`build.js: ${e.message}\n`); process.exit(1); });
}
