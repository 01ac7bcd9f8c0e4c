// Errors reach JS as PolysessionError with a stable code; nothing panics.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Manager } from 'polysession-wasm';
import worker from '../examples/worker.js';
import { MapKV, StaleKV } from './support/kv.js';

const KEYS = { keys: ['a secret for the error tests, 32+ bytes'] };
const get = (cookie) => new Request('http://edge.example/get?key=a', cookie ? { headers: { cookie } } : {});

describe('options', () => {
  it('maps beego keys from an object or a beego JSON string', async () => {
    const fromObject = new Manager({ provider: 'memory', cookieName: 'sid', cookieSameSite: 'Strict', secure: true });
    const fromJson = new Manager('{"cookieName":"sid","cookieSameSite":3,"secure":true,"provider":"memory"}');
    for (const m of [fromObject, fromJson]) {
      const s = await m.start(new Request('https://edge.example/'));
      s.set('a', 1);
      const cookie = (await m.commit(s, new Response(null))).headers.get('set-cookie');
      assert.match(cookie, /^sid=[0-9a-f]{32}; HttpOnly; SameSite=Strict; Secure; Path=\/$/);
    }
  });

  it('rejects bad options with BAD_CONFIG naming the key', () => {
    const cases = [
      [{ cookieNmae: 'x', providerConfig: KEYS }, /cookieNmae/],
      [{ maxLifetime: 'soon', providerConfig: KEYS }, /maxLifetime/],
      [{ gclifetime: 0, provider: 'memory' }, /gclifetime/],
      [{ cookieSameSite: 'sometimes', providerConfig: KEYS }, /cookieSameSite/],
      [{ cookieName: 'bad name;', providerConfig: KEYS }, /cookieName/],
      [{ provider: 'kv' }, /store/],
      [{ provider: 'memory', store: new MapKV() }, /store/],
      [{ store: { get() {} } }, /store/],
      [{ store: new MapKV(), providerConfig: { prefix: 1 } }, /providerConfig/],
      [{ now: 'noon', provider: 'memory' }, /now/],
      [{ now: () => NaN, provider: 'memory' }, /now/],
      [{ big: 10n, provider: 'memory' }, /JSON/],
      ['{"gclifetime": 0}', /gclifetime/],
      ['not json', /JSON/],
      [42, /options/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => new Manager(options), (err) => {
        assert.equal(err.name, 'PolysessionError', String(options));
        assert.equal(err.code, 'BAD_CONFIG', `${String(options)}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      });
    }
    assert.throws(() => new Manager({ provider: 'redis' }), { code: 'UNKNOWN_PROVIDER' });
  });
});

describe('session values', () => {
  it('rejects what JSON cannot hold with BAD_INPUT, and keeps the session usable', async () => {
    const m = new Manager({ provider: 'memory' });
    const s = await m.start(get());
    const cyclic = {};
    cyclic.self = cyclic;
    for (const bad of [undefined, () => 1, Symbol('s'), 10n, cyclic]) {
      assert.throws(() => s.set('k', bad), { name: 'PolysessionError', code: 'BAD_INPUT' });
    }
    // A toJSON that re-enters the session does not break it.
    s.set('ok', { toJSON: () => (s.set('inner', 1), 'outer') });
    assert.equal(s.get('ok'), 'outer');
    assert.equal(s.get('inner'), 1);
    s.set('date', new Date(0));
    assert.equal(s.get('date'), '1970-01-01T00:00:00.000Z');
    assert.equal(s.get('missing'), undefined);
    assert.deepEqual(s.keys(), ['date', 'inner', 'ok']);
    assert.equal(s.delete('inner'), true);
    assert.equal(s.delete('inner'), false);
    assert.deepEqual(s.toJSON(), { ok: 'outer', date: '1970-01-01T00:00:00.000Z' });
  });

  it('refuses use after commit and while regenerate is in flight', async () => {
    // A KV whose reads wait until the test opens the gate.
    const kv = new MapKV();
    let gate = Promise.resolve();
    const slow = { get: async (k) => (await gate, kv.get(k)), put: (...a) => kv.put(...a), delete: (k) => kv.delete(k) };
    const m = new Manager({ store: slow });
    const first = await m.start(get());
    first.set('a', 1);
    const cookie = (await m.commit(first, new Response(null))).headers.get('set-cookie').split(';')[0];
    const s = await m.start(get(cookie));
    let release;
    gate = new Promise((resolve) => (release = resolve));
    const pending = s.regenerate();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.throws(() => s.get('a'), { code: 'BAD_INPUT', message: /busy/ });
    assert.throws(() => s.set('b', 2), { code: 'BAD_INPUT', message: /busy/ });
    release();
    await pending;
    assert.equal(s.get('a'), 1);
    assert.notEqual(s.id, cookie.split('=')[1]);
    await m.commit(s, new Response(null));
    assert.throws(() => s.get('a'), { code: 'BAD_INPUT', message: /committed/ });
    await assert.rejects(m.commit(s, new Response(null)), { code: 'BAD_INPUT' });
    await assert.rejects(s.destroy(), { code: 'BAD_INPUT' });
    await assert.rejects(m.commit({}, new Response(null)), /Session/);
  });
});

describe('kv store failures', () => {
  it('become STORE_UNAVAILABLE (503 in the app), and traffic recovers with the store', async () => {
    const kv = new MapKV();
    const env = { SESSIONS: kv };
    const set = await worker.fetch(new Request('http://edge.example/set?key=a&value=1', { method: 'POST' }), env);
    const cookie = set.headers.get('set-cookie').split(';')[0];
    kv.failing = true;
    const down = await worker.fetch(get(cookie), env);
    assert.equal(down.status, 503);
    assert.equal(down.headers.get('retry-after'), '1');
    assert.match(await down.text(), /STORE_UNAVAILABLE/);
    const m = new Manager({ store: kv });
    await assert.rejects(m.start(get(cookie)), (err) => {
      assert.equal(err.code, 'STORE_UNAVAILABLE');
      assert.match(err.message, /kv.*get.*network connection lost/);
      return true;
    });
    kv.failing = false;
    const up = await worker.fetch(get(cookie), env);
    assert.equal(up.status, 200);
    assert.equal(await up.json(), 1, 'the session survived the outage');
  });

  it('a write failure leaves the session open for a retry', async () => {
    const kv = new MapKV();
    const m = new Manager({ store: kv });
    const s = await m.start(get());
    s.set('a', 1);
    kv.failing = true;
    await assert.rejects(m.commit(s, new Response(null)), { code: 'STORE_UNAVAILABLE' });
    kv.failing = false;
    const res = await m.commit(s, new Response(null));
    assert.match(res.headers.get('set-cookie'), /^beegosessionID=/);
  });

  it('treats values it did not write as no session', async () => {
    let t = Date.now();
    const kv = new MapKV(() => t);
    const m = new Manager({ store: kv, providerConfig: { prefix: 'sess:' }, now: () => t });
    const s = await m.start(get());
    s.set('a', 1);
    const cookie = (await m.commit(s, new Response(null))).headers.get('set-cookie').split(';')[0];
    const key = `sess:${cookie.split('=')[1]}`;
    assert.ok(kv.entries.has(key), 'stored under the prefix');
    // Within KV's 60 s consistency window the store trusts its own write over what a read
    // shows; past it, what the KV holds decides.
    kv.entries.set(key, { value: 'junk' });
    assert.equal((await m.start(get(cookie))).get('a'), 1, 'own write within the window');
    t += 61_000;
    for (const junk of ['', 'ps1:', 'ps1:x:y:{}', 'ps1:1:99999999999999:not json', '{"a":1}', 'ps2:1:1:{}']) {
      kv.entries.set(key, { value: junk });
      const again = await m.start(get(cookie));
      assert.equal(again.isNew, true, junk);
      assert.equal(again.get('a'), undefined, junk);
    }
  });

  it('never lets a stale KV read undo a logout or hide a write in this isolate', async () => {
    let t = Date.now();
    const kv = new StaleKV(() => t, 5_000);
    const m = new Manager({ store: kv, now: () => t, touchInterval: 1 });
    const s = await m.start(get());
    s.set('user', 'bob');
    const cookie = (await m.commit(s, new Response(null))).headers.get('set-cookie').split(';')[0];
    assert.equal((await m.start(get(cookie))).get('user'), 'bob', 'own write read back at once');
    t += 10_000;
    const late = await m.start(get(cookie));
    const reader = await m.start(get(cookie));
    const logout = await m.start(get(cookie));
    await logout.destroy();
    await m.commit(logout, new Response(null));
    assert.notEqual(await kv.get(cookie.split('=')[1]), null, 'the KV still shows the session (stale)');
    late.set('cart', 1);
    const out = await m.commit(late, new Response(null));
    assert.equal(out.headers.get('set-cookie'), null, 'a late write after logout sends nothing');
    t += 2_000; // the reader's touch is due
    await m.commit(reader, new Response(null));
    t += 10_000;
    assert.equal((await m.start(get(cookie))).isNew, true, 'still logged out');
  });

  it('bounds every KV call by timeout_ms: a promise that never settles is a 503, not a hang', async () => {
    const map = new Map();
    let hang = false;
    const store = {
      get: (k) => (hang ? new Promise(() => {}) : map.get(k) ?? null),
      put: (k, v) => void map.set(k, v),
      delete: (k) => void map.delete(k),
    };
    const m = new Manager({ store, providerConfig: { timeout_ms: 100 } });
    const s = await m.start(get());
    s.set('a', 1);
    const cookie = (await m.commit(s, new Response(null))).headers.get('set-cookie').split(';')[0];
    hang = true;
    const began = Date.now();
    await assert.rejects(m.start(get(cookie)), (e) => e.code === 'STORE_UNAVAILABLE' && /`get` failed: no answer within 100 ms/.test(e.message));
    assert.ok(Date.now() - began < 2000, 'answered within the timeout');
  });

  it('accepts synchronous stores and a store without list()', async () => {
    const map = new Map();
    const store = {
      get: (k) => map.get(k) ?? null,
      put: (k, v) => void map.set(k, v),
      delete: (k) => void map.delete(k),
    };
    const m = new Manager({ store });
    const s = await m.start(get());
    s.set('a', 'sync');
    const cookie = (await m.commit(s, new Response(null))).headers.get('set-cookie').split(';')[0];
    assert.equal((await m.start(get(cookie))).get('a'), 'sync');
    await assert.rejects(m.count(), { code: 'UNSUPPORTED' });
    assert.equal(await m.gc(), 0);
  });
});

describe('random input', () => {
  it('never traps the wasm instance: 3000 random cookies, URLs, headers and forms', async () => {
    // A small deterministic PRNG, so a failure can be replayed.
    let seed = 0x2545f491;
    const rand = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const pick = (s) => s[rand(s.length)];
    const alphabet = 'abcdef0123456789=;, %"\\/.-_~+?&#\u00ff\u00e9\u2603beegosessionID';
    const junk = () => Array.from({ length: rand(200) }, () => pick(alphabet)).join('');
    // Header values are ByteStrings: latin1 only.
    const latin1 = () => junk().replaceAll('\u2603', '\u00a7');
    const kv = new MapKV();
    const managers = [
      new Manager({ store: kv, EnableSidInURLQuery: true, EnableSidInHTTPHeader: true }),
      new Manager({ providerConfig: KEYS, EnableSidInURLQuery: true }),
    ];
    for (let i = 0; i < 3000; i++) {
      const m = managers[i % 2];
      const headers = new Headers();
      headers.set('cookie', `beegosessionID=${latin1()}; ${latin1()}`);
      headers.set('beegosessionid', latin1());
      headers.set('x-forwarded-proto', latin1());
      headers.set('content-type', 'application/x-www-form-urlencoded');
      const url = `http://edge.example/${encodeURI(junk())}?${encodeURI(junk())}`;
      const s = await m.start(new Request(url, { method: 'POST', headers, body: junk() }));
      assert.equal(s.isNew, true);
      s.set(junk() || 'k', junk());
      const res = await m.commit(s, new Response(null));
      assert.ok(res.headers.get('set-cookie'));
    }
  });
});
