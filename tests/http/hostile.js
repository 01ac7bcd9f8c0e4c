// Hostile traffic against any host of the behaviour suite (hosts.js): malformed and oversized
// Cookie headers, thousands of cookies, ids with `/`, `..`, NUL, Unicode and 10 KB lengths in
// the cookie, the query and a header (each transport on and off), fixation with a client-chosen
// id, replay after logout, replay of a sealed cookie after its idle and absolute limits, forms
// without a Content-Length and huge forms. Every attempt must end in a fresh session or a clear
// 4xx: never a 5xx, never a dropped connection. For the file provider, canary files around the
// save path must be left as they were, and nothing may appear outside it.
//
// hostile(host, { saveDir }) -> counts { tried, fresh, rejected, kept } per kind of attack.
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, sessionCookie, sleep } from './support/http.js';

const NAME = 'beegosessionID';
const HEADER = 'X-Session';

// Raw bytes on a socket, for what an HTTP client refuses to send (NUL, bare CR in a header).
function raw(url, text) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(Buffer.from(text, 'latin1')));
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => {
      const all = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(all);
      const text = all.split('\r\n\r\n').slice(1).join('\r\n\r\n');
      // A server may also close without answering a request it cannot parse: that is a refusal.
      resolve({ status: m ? Number(m[1]) : 400, closed: !m, text, json: () => JSON.parse(text.trim()) });
    });
    socket.on('error', (e) => (e.code === 'ECONNRESET' ? resolve({ status: 400, closed: true }) : reject(e)));
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
  });
}

// The ids an attacker tries.
const BAD_IDS = [
  '../../canary',
  '..%2F..%2Fcanary',
  '/etc/passwd',
  '....//....//canary',
  'a/b',
  '..',
  '.',
  '%00',
  'a%00b',
  '\u00e9t\u00e9',
  '\u{1F600}',
  'A'.repeat(10 * 1024),
  '0'.repeat(32),
  'f'.repeat(64),
  ' ',
  '"quoted"',
  'a;b=c',
];

class Counts {
  constructor() {
    this.rows = new Map();
  }

  // Records one attempt's response: a 5xx fails the test.
  add(kind, res, what) {
    const row = this.rows.get(kind) ?? { tried: 0, fresh: 0, rejected: 0, kept: 0 };
    this.rows.set(kind, row);
    row.tried += 1;
    assert.ok(res.status < 500, `${kind}: ${what}: ${res.status} ${res.text ?? ''}`);
    if (res.status >= 400) row.rejected += 1;
    else if (res.kept) row.kept += 1;
    else row.fresh += 1;
  }

  print(name) {
    const total = [...this.rows.values()].reduce((n, r) => n + r.tried, 0);
    console.log(`\nhostile traffic, ${name}: ${total} attempts, no 5xx`);
    console.log('  attack                          tried  fresh  4xx  kept');
    for (const [kind, r] of this.rows) {
      console.log(`  ${kind.padEnd(30)} ${String(r.tried).padStart(6)} ${String(r.fresh).padStart(6)} ${String(r.rejected).padStart(4)} ${String(r.kept).padStart(5)}`);
    }
    return total;
  }
}

// A GET of `key` that must not find a planted value: a fresh session (or a 4xx).
async function probe(counts, kind, url, options, what) {
  let res;
  try {
    res = await request('GET', url, options);
  } catch (e) {
    // The client itself refused to send it (an invalid header character): try it raw.
    const headers = (options.headers ?? []).map(([n, v]) => `${n}: ${v}\r\n`).join('');
    const { pathname, search, host } = new URL(url);
    res = await raw(url, `GET ${pathname}${search} HTTP/1.1\r\nhost: ${host}\r\n${headers}connection: close\r\n\r\n`);
  }
  if (res.status === 200) assert.equal(res.json(), null, `${kind}: ${what}: no planted session is adopted`);
  counts.add(kind, res, what);
}

function snapshot(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.set(p, `${st.size}:${st.mtimeMs}:${readFileSync(p, 'latin1')}`);
    }
  };
  walk(dir);
  return out;
}

export async function hostile(host, { saveDir } = {}) {
  const counts = new Counts();
  const stored = host.stored;
  // Canaries next to the save path and above it: an id that escapes the save path would
  // create, change or remove one of them.
  let canaries;
  if (saveDir) {
    mkdirSync(saveDir, { recursive: true });
    for (const name of ['canary', 'sessions-canary', '.hidden-canary']) writeFileSync(join(saveDir, '..', name), `canary ${name}\n`);
    canaries = snapshot(join(saveDir, '..'));
  }
  const base = saveDir ? { provider: 'file', providerConfig: saveDir } : {};

  for (const transports of [false, true]) {
    const options = transports
      ? { ...base, EnableSidInURLQuery: true, EnableSidInHTTPHeader: true, SessionNameInHTTPHeader: HEADER }
      : base;
    const app = await host.start(options);
    try {
      const on = transports ? 'on' : 'off';
      // A planted session to look for: none of the attacks may reach it by a bad id.
      const planted = sessionCookie(await request('POST', `${app.url}/set?key=user&value=%22planted%22`));
      assert.ok(planted);

      // Malformed and oversized Cookie headers, thousands of cookies.
      const cookieHeaders = [
        `${NAME}=${'x'.repeat(8 * 1024)}`,
        `${NAME}=${'x'.repeat(60 * 1024)}`,
        Array.from({ length: 3000 }, (_, i) => `c${i}=${i}`).join('; '),
        Array.from({ length: 1000 }, () => `${NAME}=junk`).join('; '),
        ';;;;;=====;;;;',
        `${NAME}`,
        `${NAME}==`,
        `${NAME}="${'a'.repeat(32)}"`,
        Buffer.from([0x62, 0x65, 0x3d, 0xff, 0xfe, 0x00, 0x01]).toString('latin1'),
      ];
      for (const c of cookieHeaders) {
        await probe(counts, `cookie header (transports ${on})`, `${app.url}/get?key=user`, { headers: [['cookie', c]] }, c.slice(0, 30));
      }

      // Bad ids in each transport.
      for (const id of BAD_IDS) {
        const enc = encodeURIComponent(id);
        await probe(counts, `bad id in cookie (${on})`, `${app.url}/get?key=user`, { headers: [['cookie', `${NAME}=${enc}`]] }, id.slice(0, 20));
        await probe(counts, `bad id in query (${on})`, `${app.url}/get?key=user&${NAME}=${enc}`, {}, id.slice(0, 20));
        await probe(counts, `bad id in header (${on})`, `${app.url}/get?key=user`, { headers: [[HEADER, id.includes('%') ? id : enc]] }, id.slice(0, 20));
      }
      // Raw NUL and CR bytes in the cookie and header (clients refuse to send them).
      for (const line of [`cookie: ${NAME}=ab\u0000cd`, `${HEADER}: ab\u0000cd`, `cookie: ${NAME}=a\rb`]) {
        const res = await raw(app.url, `GET /get?key=user HTTP/1.1\r\nhost: x\r\n${line}\r\nconnection: close\r\n\r\n`);
        counts.add(`raw NUL/CR bytes (${on})`, res, JSON.stringify(line));
      }

      // Fixation: a client-chosen, well-formed id is never adopted.
      for (const chosen of ['0123456789abcdef0123456789abcdef', 'deadbeefdeadbeefdeadbeefdeadbeef']) {
        const res = await request('POST', `${app.url}/set?key=x&value=1`, { headers: [['cookie', `${NAME}=${chosen}`]] });
        assert.ok(res.status < 500);
        if (stored) assert.notEqual(sessionCookie(res), `${NAME}=${chosen}`, 'a client-chosen id is not adopted');
        counts.add(`fixation (${on})`, res, chosen);
        if (transports) {
          const q = await request('POST', `${app.url}/set?key=x&value=1&${NAME}=${chosen}`);
          if (stored) assert.notEqual(sessionCookie(q), `${NAME}=${chosen}`);
          counts.add(`fixation (${on})`, q, `query ${chosen}`);
        }
      }

      // Replay after logout.
      if (stored) {
        const login = sessionCookie(await request('POST', `${app.url}/login?user=mallory`));
        await request('POST', `${app.url}/logout`, { headers: [['cookie', login]] });
        for (let i = 0; i < 3; i++) {
          const res = await request('GET', `${app.url}/get?key=user`, { headers: [['cookie', login]] });
          assert.equal(res.json(), null, 'a logged-out id stays dead');
          counts.add(`replay after logout (${on})`, res, 'logout');
        }
      }

      // Forms: without a Content-Length (chunked), and huge.
      const formHeaders = [['content-type', 'application/x-www-form-urlencoded']];
      const chunked = await request('POST', `${app.url}/set?key=f&value=1`, { headers: formHeaders, body: `${NAME}=${planted.split('=')[1]}`, chunked: true });
      counts.add(`forms (${on})`, chunked, 'chunked');
      if (stored) assert.notEqual(sessionCookie(chunked), undefined, 'a chunked form is not read for an id');
      const huge = `${NAME}=${planted.split('=')[1]}&pad=${'p'.repeat(1024 * 1024)}`;
      const big = await request('POST', `${app.url}/set?key=f&value=1`, { headers: formHeaders, body: huge });
      counts.add(`forms (${on})`, big, 'huge');
      if (stored && big.status < 400) assert.notEqual(sessionCookie(big), undefined, 'a huge form is not read for an id');

      // The planted session is still there and still its own.
      const still = await request('GET', `${app.url}/get?key=user`, { headers: [['cookie', planted]] });
      assert.equal(still.json(), 'planted');
    } finally {
      await app.close();
    }
  }

  // Sealed cookies: replay after the idle limit and after the absolute limit.
  if (!stored) {
    const app = await host.start({ maxLifetime: 2, absoluteLifetime: 4, touchInterval: 1 });
    try {
      const idle = sessionCookie(await request('POST', `${app.url}/set?key=user&value=%22old%22`));
      await app.wait(2500);
      const afterIdle = { ...(await request('GET', `${app.url}/get?key=user`, { headers: [['cookie', idle]] })) };
      assert.equal(afterIdle.json(), null, 'a sealed cookie past its idle limit opens nothing');
      counts.add('sealed replay after expiry', afterIdle, 'idle');
      let cookie = sessionCookie(await request('POST', `${app.url}/set?key=user&value=%22busy%22`));
      const first = cookie;
      for (let t = 0; t < 5; t++) {
        await app.wait(1100);
        const res = await request('GET', `${app.url}/get?key=user`, { headers: [['cookie', cookie]] });
        cookie = sessionCookie(res) ?? cookie; // touched: a fresh seal with a later idle limit
      }
      const late = await request('GET', `${app.url}/get?key=user`, { headers: [['cookie', cookie]] });
      assert.equal(late.json(), null, 'a busy sealed session still ends at its absolute limit');
      counts.add('sealed replay after absolute limit', late, 'absolute');
      const old = await request('GET', `${app.url}/get?key=user`, { headers: [['cookie', first]] });
      assert.equal(old.json(), null);
      counts.add('sealed replay after absolute limit', old, 'first copy');
    } finally {
      await app.close();
    }
  }

  if (saveDir) {
    const after = snapshot(join(saveDir, '..'));
    for (const [path, state] of canaries) assert.equal(after.get(path), state, `canary ${path} untouched`);
    for (const path of after.keys()) {
      assert.ok(canaries.has(path) || path.startsWith(saveDir + '/'), `nothing written outside the save path: ${path}`);
    }
    assert.ok(existsSync(saveDir));
  }
  return counts;
}
