#!/usr/bin/env node
// unix_bridge.js: carries TCP connections across network namespaces through
// a Unix socket (a path in the file system, which namespaces share). Used by
// matrix_run.js so that the sides it runs in private namespaces reach the
// homeserver, which listens on 127.0.0.1 of the root namespace.
//
//   node unix_bridge.js HOST:PORT SOCKET   (run in the namespace) listen on
//       HOST:PORT; each connection is piped to SOCKET. Prints "listening"
//       on stdout when it accepts; exits when stdin closes.
//   serveUnixToTcp(SOCKET, host, port)     (in the driver, root namespace)
//       accept on SOCKET; each connection is piped to host:port.
'use strict';
const net = require('net');

function pipeBoth(a, b) {
  a.pipe(b);
  b.pipe(a);
  const close = () => { a.destroy(); b.destroy(); };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
}

function serveUnixToTcp(sock, host, port) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((c) => pipeBoth(c, net.connect(port, host)));
    srv.on('error', reject);
    srv.listen(sock, () => resolve(srv));
  });
}

if (require.main === module) {
  const [hp, sock] = process.argv.slice(2);
  const m = /^(.*):(\d+)$/.exec(hp || '');
  if (!m || !sock) { process.stderr.write('usage: unix_bridge.js HOST:PORT SOCKET\n'); process.exit(2); }
  const srv = net.createServer((c) => pipeBoth(c, net.connect(sock)));
  srv.on('error', (e) => { process.stderr.write(`unix_bridge: ${e.message}\n`); process.exit(1); });
  srv.listen(Number(m[2]), m[1], () => process.stdout.write('listening\n'));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
}

module.exports = { serveUnixToTcp };
