// Where the time of polysession's Express middleware goes, in process (no server): the
// JS↔Rust crossings one by one, the JSON work of the glue, and the whole middleware on
// fake req/res objects, in ns per call on the memory provider.
//   node bench/node/crossings.js            (bench/node-http.sh's release addon: set
//   NAPI_RS_NATIVE_LIBRARY_PATH to it, or the test build of node/ is used)
'use strict';
const path = require('node:path');
const nodeDir = path.join(__dirname, '../../node');
const binding = require(path.join(nodeDir, 'binding.js'));
const session = require(nodeDir);

const N = Number(process.env.N ?? 300000);
function time(name, f) {
  for (let i = 0; i < N / 10; i++) f(i); // warm-up
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f(i);
  const ns = Number(process.hrtime.bigint() - t) / N;
  console.log(`${name.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns`);
  return ns;
}

// The crossings of one request, on a session holding { n: 0 }.
const raw = new binding.RawManager(JSON.stringify({ maxLifetime: 3600 }), false, null, null);
const first = raw.start(undefined, '/', undefined, undefined, undefined, false);
first.set('n', '0');
const cookie = `beegosessionID=${first.id}`;
raw.commit(first, undefined, undefined);
const open = () => raw.start(cookie, '/read', undefined, undefined, undefined, false);
const held = open();
console.log(`node ${process.version}, ${N} calls each\n\ncrossings`);
time('a getter (session.isNew): the floor of one crossing', () => held.isNew);
time('session.data() (the JSON text of the values)', () => held.data());
const start = time('start(cookie, url, ...) on memory: a found session', open);
const both = time('start + commit (unchanged: no write)', () => raw.commit(open(), undefined, undefined));
console.log(`${'commit alone (by difference)'.padEnd(58)} ${(both - start).toFixed(0).padStart(6)} ns`);

// The JSON of the glue for the same values, without any crossing.
const text = held.data();
console.log('\nJSON in the glue');
time('JSON.parse of the values + a snapshot per key', () => {
  const data = JSON.parse(text);
  const snap = new Map();
  for (const k in data) snap.set(k, JSON.stringify(data[k]));
  return snap;
});

// The whole middleware per request on fake req/res (no HTTP, no Express router).
class Res {
  constructor() {
    this.h = new Map();
    this.headersSent = false;
  }
  getHeader(n) {
    return this.h.get(n.toLowerCase());
  }
  setHeader(n, v) {
    this.h.set(n.toLowerCase(), v);
    return this;
  }
  writeHead() {
    this.headersSent = true;
    return this;
  }
  write() {
    return true;
  }
  end() {
    if (!this.headersSent) this.writeHead(200);
    return this;
  }
}
const mw = session({ maxLifetime: 3600 });
const cookies = [];
(async () => {
// The first request waits for the store's init; every later one runs synchronously.
await new Promise((resolve) => mw({ headers: {}, method: 'GET', url: '/', socket: {} }, new Res(), resolve));
for (let i = 0; i < 1000; i++) {
  const req = { headers: {}, method: 'GET', url: '/seed', originalUrl: '/seed', socket: {} };
  const res = new Res();
  mw(req, res, () => {
    req.session.n = 0;
    res.end('ok');
  });
  cookies.push(String(res.getHeader('set-cookie')).split(';')[0]);
}
if (!cookies[0].startsWith('connect.sid=')) throw new Error(`no session cookie: ${cookies[0]}`);
function request(i, route) {
  const req = { headers: { cookie: cookies[(i * 7919) % 1000] }, method: 'GET', url: route, originalUrl: route, socket: {} };
  const res = new Res();
  mw(req, res, () => {
    if (route === '/write') req.session.n += 1;
    else if (route === '/read' && req.session.n === undefined) throw new Error('the seeded session was not found');
    res.end('ok');
  });
}
console.log('\nthe middleware on fake req/res, per request');
for (const route of ['/read', '/write', '/untouched']) time(route, (i) => request(i, route));
})();
