// The Node package's API: options and their errors, values, the fetch helper, JS stores.
'use strict';
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const session = require('polysession');
const { Manager, errorResponse, errorResponseInit, coreOptions } = session;

const get = (cookie) => new Request('http://node.example/', cookie ? { headers: { cookie } } : {});
const jar = (res) => res.headers.get('set-cookie')?.split(';')[0];

describe('options', () => {
  it('maps express-session names to core options and passes the core ones through', () => {
    assert.deepEqual(
      coreOptions({
        name: 'sid',
        secret: 'keyboard cat',
        resave: false,
        saveUninitialized: true,
        rolling: true,
        proxy: true,
        cookie: { maxAge: 90_500, secure: 'auto', httpOnly: false, sameSite: true, domain: 'x.test', path: '/app' },
        maxLifetime: 10,
      }),
      {
        cookieName: 'sid',
        touchInterval: 1,
        trustForwardedProto: true,
        cookieLifeTime: 91,
        maxLifetime: 10,
        secure: true,
        disableHTTPOnly: true,
        cookieSameSite: 'Strict',
        domain: 'x.test',
        cookiePath: '/app',
      },
    );
  });

  it("keeps express-session's default cookie name unless told otherwise", () => {
    assert.equal(coreOptions({}).cookieName, 'connect.sid');
    assert.equal(coreOptions({ cookieName: 'beegosessionID' }).cookieName, 'beegosessionID');
    assert.equal(session().cookieName, 'connect.sid');
  });

  it('rejects bad options with a PolysessionError naming the key', () => {
    for (const [bad, code, key] of [
      [{ cookieNmae: 'x' }, 'BAD_CONFIG', 'cookieNmae'],
      [{ gclifetime: 0 }, 'BAD_CONFIG', 'gclifetime'],
      [{ provider: 'nope' }, 'UNKNOWN_PROVIDER', 'nope'],
      [{ provider: 'cookie' }, 'BAD_CONFIG', 'providerConfig'],
      [{ provider: 'kv' }, 'BAD_CONFIG', 'store'],
      [{ store: { get() {} } }, 'BAD_CONFIG', 'store'],
      [{ x: 1n }, 'BAD_CONFIG', 'JSON'],
      [{ now: 5 }, 'BAD_CONFIG', 'now'],
      [{ now: () => NaN }, 'BAD_CONFIG', 'now'],
      ['{', 'BAD_CONFIG', 'sessionConfig'],
      [7, 'BAD_CONFIG', 'options'],
    ]) {
      assert.throws(
        () => new Manager(bad),
        (err) => err.name === 'PolysessionError' && err.code === code && err.message.includes(key),
        JSON.stringify(bad, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
      );
      if (typeof bad === 'object') assert.throws(() => session(bad), { code });
    }
    assert.equal(typeof session({ rolling: true, cookie: { maxAge: 1000 } }), 'function', 'every mapped option builds');
    assert.equal(new Manager('{"cookieName":"sid","provider":"memory"}').provider, 'memory');
  });

  it('runs on the native addon, or says why not and what the wasm fallback lacks', () => {
    if (process.env.POLYSESSION_FORCE_WASM === '1') {
      assert.deepEqual(session.backend, { name: 'wasm', reason: 'POLYSESSION_FORCE_WASM=1' });
      assert.throws(
        () => new Manager({ provider: 'redis', providerConfig: '127.0.0.1:6379' }),
        (e) => e.code === 'UNSUPPORTED' && /needs the native addon/.test(e.message) && /POLYSESSION_FORCE_WASM/.test(e.message),
      );
    } else {
      assert.deepEqual(session.backend, { name: 'native', reason: null });
      assert.equal(new Manager({ provider: 'file', providerConfig: require('node:os').tmpdir() }).provider, 'file');
    }
  });
});

describe('values', () => {
  it('round-trip as JSON; what JSON cannot hold is a TypeError naming the key', async () => {
    const m = new Manager();
    const s = await m.start(get());
    const value = { s: 'é ✓', n: [1, -2.5, 9007199254740991], b: true, z: null, d: new Date(0) };
    s.set('v', value);
    assert.deepEqual(s.get('v'), { ...value, d: '1970-01-01T00:00:00.000Z' });
    const cyclic = {};
    cyclic.self = cyclic;
    class Point {}
    for (const [bad, what] of [
      [() => 1, 'function'],
      [10n, 'BigInt'],
      [Symbol('s'), 'symbol'],
      [new Map(), 'Map'],
      [new Set(), 'Set'],
      [new Point(), 'Point'],
      [cyclic, 'cycle'],
      [{ deep: [{ m: new Map() }] }, 'Map'],
    ]) {
      assert.throws(() => s.set('key', bad), (e) => e instanceof TypeError && e.code === 'BAD_INPUT' && e.message.includes('`key`') && e.message.includes(what));
    }
    assert.throws(() => s.set('u', undefined), { code: 'BAD_INPUT' });
    // Nested deeper than a stored payload can be read back: refused at set, not lost later.
    const nest = (n) => Array.from({ length: n }).reduce((v) => [v], 1);
    s.set('deep', nest(125));
    assert.deepEqual(s.get('deep'), nest(125));
    assert.throws(() => s.set('deeper', nest(126)), (e) => e.code === 'BAD_INPUT' && e.message.includes('`deeper`'));
    assert.equal(s.get('missing'), undefined);
  });

  it('keeps every float exactly through a store (the wasm fallback does not yet: docs/wire-format.md)', async (t) => {
    if (session.backend.name === 'wasm') {
      t.skip('the wasm build parses floats with serde_json\'s default parser (size budget)');
      return;
    }
    const m = new Manager();
    const s = await m.start(get());
    // Each of these reads as a neighbour with serde_json's default parser (found by fuzzing).
    const floats = [0.9856906946328695, 4.805878740494918e-11, 1.0715660391465826e-75, -1.603964615428183e143, 0.1 + 0.2];
    let x = 0x2545f491;
    for (let i = 0; i < 500; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      floats.push((x / 2147483648) * 10 ** ((i % 21) - 10) + Math.random());
    }
    s.set('f', floats);
    const res = await m.commit(s, new Response(''));
    const again = await m.start(get(jar(res)));
    assert.deepEqual(again.get('f'), floats);
  });
});

describe('the fetch helper', () => {
  it('starts, commits with headers merged into the response, and reads back', async () => {
    const m = new Manager({ maxLifetime: 60 });
    const s = await m.start(get());
    assert.equal(s.isNew, true);
    s.set('n', 1);
    const res = await m.commit(s, new Response('ok', { headers: { vary: 'Accept', 'cache-control': 'private' } }));
    assert.match(res.headers.get('set-cookie'), /^beegosessionID=[0-9a-f]{32}; HttpOnly; SameSite=Lax; Path=\/$/);
    assert.equal(res.headers.get('vary'), 'Accept, Cookie');
    assert.equal(res.headers.get('cache-control'), 'private, no-store');
    assert.equal(await res.text(), 'ok');
    await assert.rejects(m.commit(s, new Response('')), { code: 'BAD_INPUT' });
    const again = await m.start(get(jar(res)));
    assert.equal(again.get('n'), 1);
    assert.equal(again.isNew, false);
    assert.equal(await m.count(), 1);
  });

  it('gives one session a cookie lifetime of its own for the response', async () => {
    const m = new Manager({ maxLifetime: 60 });
    const s = await m.start(get());
    assert.throws(() => s.setCookieLifetime(-1), { code: 'BAD_INPUT' });
    s.set('n', 1);
    s.setCookieLifetime(3600);
    const res = await m.commit(s, new Response('ok'));
    assert.match(res.headers.get('set-cookie'), /; Max-Age=3600; /);
    const again = await m.start(get(jar(res)));
    again.set('n', 2);
    assert.equal((await m.commit(again, new Response('ok'))).headers.get('set-cookie'), null, 'not stored: the config again');
  });

  it('gives errors the response every host gives', () => {
    const outage = errorResponse(Object.assign(new Error('STORE_UNAVAILABLE: x'), { name: 'PolysessionError', code: 'STORE_UNAVAILABLE' }));
    assert.equal(outage.status, 503);
    assert.equal(outage.headers.get('retry-after'), '1');
    assert.equal(errorResponse(new Error('boom')).status, 500);
    assert.deepEqual(errorResponseInit({ name: 'PolysessionError', code: 'TOO_LARGE' }).status, 413);
  });

  it('moves time with the now option', async () => {
    let t = Date.now();
    const m = new Manager({ maxLifetime: 60, now: () => t });
    const s = await m.start(get());
    s.set('a', 1);
    const cookie = jar(await m.commit(s, new Response(null)));
    t += 59_000;
    assert.equal((await m.start(get(cookie))).get('a'), 1);
    t += 61_000;
    assert.equal((await m.start(get(cookie))).isNew, true, 'expired by the moved clock');
  });
});

// A Map with the Workers KV interface; `failing` makes every call throw.
class MapKV {
  constructor() {
    this.entries = new Map();
    this.failing = false;
  }
  #check(op) {
    if (this.failing) throw new Error(`KV ${op}: connection lost`);
  }
  async get(key) {
    this.#check('get');
    return this.entries.get(key) ?? null;
  }
  async put(key, value, { expirationTtl }) {
    this.#check('put');
    assert.ok(Number.isInteger(expirationTtl) && expirationTtl >= 1);
    this.entries.set(key, value);
  }
  async delete(key) {
    this.#check('delete');
    this.entries.delete(key);
  }
  async list({ prefix, cursor }) {
    this.#check('list');
    const names = [...this.entries.keys()].filter((k) => k.startsWith(prefix)).sort();
    const start = cursor ? Number(cursor) : 0;
    const done = start + 2 >= names.length;
    return { keys: names.slice(start, start + 2).map((name) => ({ name })), list_complete: done, cursor: done ? undefined : String(start + 2) };
  }
}

describe('JS stores', () => {
  it('a KV-shaped store holds the record text under the prefix, counts by list()', async () => {
    const kv = new MapKV();
    const m = new Manager({ store: kv, providerConfig: { prefix: 'sess:' } });
    assert.equal(m.provider, 'kv');
    const cookies = [];
    for (let i = 0; i < 5; i++) {
      const s = await m.start(get());
      s.set('i', i);
      cookies.push(jar(await m.commit(s, new Response(null))));
    }
    const id = cookies[0].split('=')[1];
    assert.match(kv.entries.get(`sess:${id}`), /^ps1:1:\d+:\{"v":1,"created":\d+,"data":\{"i":0\}\}$/);
    assert.equal(await m.count(), 5);
    assert.equal((await m.start(get(cookies[3]))).get('i'), 3);
  });

  it('a failing store is STORE_UNAVAILABLE naming the method, and traffic recovers', async () => {
    const kv = new MapKV();
    const m = new Manager({ store: kv });
    const s = await m.start(get());
    s.set('a', 1);
    const cookie = jar(await m.commit(s, new Response(null)));
    kv.failing = true;
    await assert.rejects(m.start(get(cookie)), (e) => e.code === 'STORE_UNAVAILABLE' && /`get` failed: KV get: connection lost/.test(e.message));
    kv.failing = false;
    assert.equal((await m.start(get(cookie))).get('a'), 1);
  });

  it('bounds every store call by timeout_ms: a promise that never settles is STORE_UNAVAILABLE', async () => {
    const kv = new MapKV();
    const m = new Manager({ store: kv, providerConfig: { timeout_ms: 100 } });
    const s = await m.start(get());
    s.set('a', 1);
    const cookie = jar(await m.commit(s, new Response(null)));
    kv.get = () => new Promise(() => {});
    const began = Date.now();
    await assert.rejects(m.start(get(cookie)), (e) => e.code === 'STORE_UNAVAILABLE' && /no answer within 100 ms/.test(e.message));
    assert.ok(Date.now() - began < 2000, 'answered within the timeout');
  });

  it('synchronous store methods work too', async () => {
    const map = new Map();
    const m = new Manager({ store: { get: (k) => map.get(k) ?? null, put: (k, v) => void map.set(k, v), delete: (k) => void map.delete(k) } });
    const s = await m.start(get());
    s.set('sync', true);
    const cookie = jar(await m.commit(s, new Response(null)));
    assert.equal((await m.start(get(cookie))).get('sync'), true);
    await assert.rejects(m.count(), { code: 'UNSUPPORTED' });
  });
});

describe('req.session.cookie.maxAge in a request (remember me)', () => {
  it('gives that response\'s cookie the lifetime; null makes it a browser-session cookie again', async () => {
    const express = require('express');
    const app = express().use(session({}));
    app.get('/login', (req, res) => {
      req.session.user = 'ann';
      if (req.query.remember) req.session.cookie.maxAge = 30 * 24 * 3600 * 1000;
      res.send('in');
    });
    app.get('/visit', (req, res) => {
      req.session.visits = (req.session.visits ?? 0) + 1;
      res.send('ok');
    });
    app.get('/forget', (req, res) => {
      req.session.cookie.maxAge = null;
      req.session.remember = false;
      res.send('ok');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${server.address().port}`;
    const call = (path, cookie) => fetch(url + path, { headers: cookie ? { cookie } : {} });
    try {
      // express-session's default: a cookie that ends with the browser.
      assert.doesNotMatch((await call('/login')).headers.get('set-cookie'), /Max-Age|Expires/);
      const remembered = await call('/login?remember=1');
      assert.match(remembered.headers.get('set-cookie'), /; Max-Age=2592000; /);
      assert.match(remembered.headers.get('set-cookie'), /; Expires=/);
      const cookie = jar(remembered);
      // Later requests leave the browser's 30-day cookie alone, as express-session does
      // without `rolling` ...
      const visit = await call('/visit', cookie);
      assert.equal(visit.status, 200);
      assert.equal(visit.headers.get('set-cookie'), null);
      // ... until the app makes it a browser-session cookie again, under the same id.
      const forgotten = await call('/forget', cookie);
      assert.equal(jar(forgotten), cookie);
      assert.doesNotMatch(forgotten.headers.get('set-cookie'), /Max-Age|Expires/);
    } finally {
      server.close();
    }
  });
});
