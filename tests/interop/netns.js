// netns.js: the interop drivers' network: two network namespaces joined by
// a veth pair, with documentation-range addresses (RFC 5737 198.51.100.0/24,
// and fd10::/64): the calls' packets, Chromium's mDNS multicast and anything
// else stay inside them. Used by run.js and matrix_run.js (root only).
//
//   const pair = new NetnsPair('mxi');  // namespaces mxia<pid>, mxib<pid>
//   pair.up(); ...; pair.down();
//   pair.blackhole(true|false)          // drop everything between the two (a network blip)
'use strict';
const { execFileSync } = require('child_process');

function ip(...args) { execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] }); }
const SIDES = [
  { v4: '198.51.100.1', v6: 'fd10::1' },
  { v4: '198.51.100.2', v6: 'fd10::2' },
];

class NetnsPair {
  constructor(prefix, diag = () => {}) {
    this.prefix = prefix;
    this.diag = diag;
    this.a = `${prefix}a${process.pid}`;
    this.b = `${prefix}b${process.pid}`;
    this.isUp = false;
    this.holed = false;
  }
  // Namespaces an earlier run left behind (killed with SIGKILL): ours are
  // named <prefix>a<pid>/<prefix>b<pid>; those whose driver pid is gone are
  // removed, with what still runs inside them (a browser, a coturn).
  sweep() {
    let list = '';
    try { list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }); } catch (e) { return; }
    const re = new RegExp(`^(${this.prefix}[ab](\\d+))\\b`);
    for (const line of list.split('\n')) {
      const m = re.exec(line);
      if (!m || Number(m[2]) === process.pid) continue;
      try { process.kill(Number(m[2]), 0); continue; } catch (e) { /* driver gone */ }
      let pids = '';
      try { pids = execFileSync('ip', ['netns', 'pids', m[1]], { encoding: 'utf8' }); } catch (e) { /* none */ }
      for (const pid of pids.split(/\s+/).filter(Boolean)) { try { process.kill(Number(pid), 'SIGKILL'); } catch (e) { /* gone */ } }
      try { ip('netns', 'del', m[1]); this.diag(`removed stale namespace ${m[1]}`); } catch (e) { this.diag(`stale ${m[1]}: ${e.message}`); }
    }
  }
  up() {
    this.sweep();
    ip('netns', 'add', this.a);
    ip('netns', 'add', this.b);
    this.isUp = true;
    ip('link', 'add', this.a, 'type', 'veth', 'peer', 'name', this.b);
    const side = [[this.a, SIDES[0], SIDES[1]], [this.b, SIDES[1], SIDES[0]]];
    for (const [n, me, gw] of side) {
      ip('link', 'set', n, 'netns', n);
      ip('-n', n, 'link', 'set', 'lo', 'up');
      ip('-n', n, 'addr', 'add', `${me.v4}/24`, 'dev', n);
      ip('-n', n, '-6', 'addr', 'add', `${me.v6}/64`, 'dev', n, 'nodad');
      ip('-n', n, 'link', 'set', n, 'up');
      // Multicast (mDNS, 224.0.0.251) leaves through the veth.
      ip('-n', n, 'route', 'add', '224.0.0.0/4', 'dev', n);
      // A default route: without media permission Chrome gathers only on the
      // interface of the default route (it asks the kernel which local address
      // would reach a public one). It points at the other namespace, which
      // forwards nothing: nothing can leave.
      ip('-n', n, 'route', 'add', 'default', 'via', gw.v4, 'dev', n);
      ip('-n', n, '-6', 'route', 'add', 'default', 'via', gw.v6, 'dev', n);
    }
  }
  // A network blip without touching the link (a link going down would also
  // take the routes and tell the applications): blackhole routes to the
  // other side's addresses in both namespaces, so unicast between the two
  // is discarded both ways (local senders get EINVAL, ip-route(8)); mDNS
  // multicast still goes through. Undo with blackhole(false).
  blackhole(on) {
    if (on === this.holed) return;
    const verb = on ? 'add' : 'del';
    for (const [n, other] of [[this.a, SIDES[1]], [this.b, SIDES[0]]]) {
      ip('-n', n, 'route', verb, 'blackhole', `${other.v4}/32`);
      ip('-n', n, '-6', 'route', verb, 'blackhole', `${other.v6}/128`);
    }
    this.holed = on;
  }
  down() {
    if (!this.isUp) return;
    this.isUp = false;
    for (const n of [this.a, this.b]) {
      try { ip('netns', 'del', n); } catch (e) { this.diag(`ip netns del ${n}: ${e.message}`); }
    }
  }
}

// Reads `export KEY=VALUE` lines (coturn.sh's and synapse.sh's env files).
function readEnvFile(file) {
  const fs = require('fs');
  const env = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

module.exports = { NetnsPair, readEnvFile, SIDES };
