// The demo routes' behaviour list (demo/tests/http.rs), served by the Worker-style example over
// real HTTP, for each provider of the wasm build.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import worker from '../examples/worker.js';
import { MapKV } from './support/kv.js';
import { serve, request, sessionCookie, Browser } from './support/http.js';

const KEYS = 'a test secret for the cookie provider of 32+ bytes';

// A clock the tests move; the manager and the KV read the same one.
function testClock() {
  const clock = { t: Date.now(), now: () => clock.t, advance: (ms) => (clock.t += ms) };
  return clock;
}

const providers = {
  kv: (clock, options) => ({ SESSIONS: new MapKV(clock.now), SESSION_OPTIONS: { now: clock.now, ...options } }),
  memory: (clock, options) => ({ SESSION_OPTIONS: { provider: 'memory', now: clock.now, ...options } }),
  cookie: (clock, options) => ({ SESSION_KEYS: KEYS, SESSION_OPTIONS: { now: clock.now, ...options } }),
};

async function start(provider, options = {}) {
  const clock = testClock();
  const env = providers[provider](clock, options);
  const server = await serve(worker, env);
  return { ...server, env, clock, browser: () => new Browser(server.url) };
}

for (const provider of Object.keys(providers)) {
  const stored = provider !== 'cookie';

  describe(`demo routes on the ${provider} provider`, () => {
    let app;
    before(async () => {
      app = await start(provider);
    });
    after(() => app.close());

    it('counts per client, with the cookie and cache headers', async () => {
      const [a, b] = [app.browser(), app.browser()];
      const first = await a.get('/');
      assert.equal(first.status, 200);
      assert.match(first.text, /id="num">0</);
      const cookie = first.setCookies[0];
      assert.match(cookie, /^beegosessionID=/);
      if (stored) assert.equal(sessionCookie(first).length, 'beegosessionID='.length + 32);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /Path=\//);
      assert.match(cookie, /SameSite=Lax/);
      assert.doesNotMatch(cookie, /Secure/);
      assert.equal(first.headers['cache-control'], 'no-store');
      assert.equal(first.headers.vary, 'Cookie');
      assert.equal(await a.counter(), 1);
      assert.equal(await a.counter(), 2);
      assert.equal(await b.counter(), 0);
      assert.equal(await a.counter(), 3);
      assert.equal(await b.counter(), 1);
      await a.post('/set?key=secret&value=%22a%22');
      assert.equal(await b.value('secret'), null);
      assert.equal(await a.value('secret'), 'a');
    });

    it('reports active sessions where the provider can count them', async () => {
      const fresh = await start(provider);
      try {
        await fresh.browser().post('/set?key=a&value=1');
        await fresh.browser().post('/set?key=a&value=2');
        await fresh.browser().get('/get?key=a'); // reads only: never stored
        const res = await request('GET', `${fresh.url}/stats`);
        if (stored) {
          assert.deepEqual(res.json(), { active: 2 });
        } else {
          assert.equal(res.status, 501);
          assert.deepEqual(res.json(), { active: null, error: 'UNSUPPORTED' });
        }
      } finally {
        await fresh.close();
      }
    });

    it('sets, gets, deletes, flushes and flashes', async () => {
      const c = app.browser();
      assert.equal((await c.post('/set?key=obj&value=%7B%22a%22%3A%5B1%2C2%5D%7D')).status, 204);
      await c.post('/set?key=n&value=5');
      assert.deepEqual(await c.value('obj'), { a: [1, 2] });
      assert.equal(await c.value('n'), 5);
      await c.post('/delete?key=n');
      assert.equal(await c.value('n'), null);
      await c.post('/flash?level=notice&msg=saved');
      await c.post('/flash?level=error&msg=oops');
      await c.post('/flash?level=notice&msg=again');
      assert.deepEqual((await c.get('/flash')).json(), { notice: ['saved', 'again'], error: ['oops'] });
      assert.deepEqual((await c.get('/flash')).json(), {}, 'flash is read once');
      await c.post('/flush');
      assert.equal(await c.value('obj'), null);
      assert.equal((await c.post('/set?key=x&value=not-json')).status, 400);
    });

    it('regenerates at login, keeps the data and kills the old id', async () => {
      const old = sessionCookie(await request('POST', `${app.url}/set?key=cart&value=3`));
      const res = await request('POST', `${app.url}/login?user=bob`, { headers: [['cookie', old]] });
      assert.equal(res.status, 204);
      const renewed = sessionCookie(res);
      assert.notEqual(renewed, old);
      const get = async (key, cookie) =>
        (await request('GET', `${app.url}/get?key=${key}`, { headers: [['cookie', cookie]] })).json();
      assert.equal(await get('cart', renewed), 3);
      assert.equal(await get('user', renewed), 'bob');
      if (stored) {
        // A sealed cookie cannot be revoked by the server: only stored sessions die at once.
        assert.equal(await get('cart', old), null, 'old id is dead');
        const again = sessionCookie(
          await request('POST', `${app.url}/set?key=x&value=1`, { headers: [['cookie', old]] }),
        );
        assert.notEqual(again, old);
        assert.notEqual(again, renewed);
      }
    });

    it('destroys the session at logout and removes the cookie', async () => {
      const cookie = sessionCookie(await request('POST', `${app.url}/login?user=alice`));
      const res = await request('POST', `${app.url}/logout`, { headers: [['cookie', cookie]] });
      assert.equal(res.status, 204);
      assert.equal(res.setCookies.length, 1);
      assert.match(res.setCookies[0], /^beegosessionID=;/);
      assert.match(res.setCookies[0], /Max-Age=0/);
      if (stored) {
        const user = await request('GET', `${app.url}/get?key=user`, { headers: [['cookie', cookie]] });
        assert.equal(user.json(), null);
      }
    });

    it('expires sessions after maxLifetime', async () => {
      const short = await start(provider, { maxLifetime: 120 });
      try {
        const c = short.browser();
        await c.post('/set?key=a&value=1');
        short.clock.advance(119_000);
        assert.equal(await c.value('a'), 1, 'alive within maxLifetime (and the read slides it)');
        short.clock.advance(119_000);
        assert.equal(await c.value('a'), 1, 'idle for less than maxLifetime');
        short.clock.advance(121_000);
        assert.equal(await c.value('a'), null, 'idle for longer than maxLifetime');
      } finally {
        await short.close();
      }
    });

    it('gives bad cookies a fresh session, never a 5xx', async () => {
      const good = sessionCookie(await request('POST', `${app.url}/set?key=user&value=%22bob%22`));
      const value = good.slice('beegosessionID='.length);
      const flipped = value.slice(0, 5) + (value[5] === '0' ? '1' : '0') + value.slice(6);
      const cookies = [
        `beegosessionID=${flipped}`,
        'beegosessionID=%%%garbage$$$',
        'beegosessionID=../../etc/passwd',
        'beegosessionID=a',
        `beegosessionID=${'a'.repeat(10 * 1024)}`,
        // Raw bytes 0xff 0xfe 0xfd and 0x80 (not UTF-8), sent as latin1.
        'beegosessionID=\xff\xfe\xfd; other=\x80',
        'beegosessionID=abc; beegosessionID=def; beegosessionID=',
        '=;;; ;==',
      ];
      for (const bad of cookies) {
        const shown = String(bad).slice(0, 40);
        const got = await request('GET', `${app.url}/get?key=user`, { headers: [['cookie', bad]] });
        assert.equal(got.status, 200, shown);
        assert.equal(got.json(), null, shown);
        const set = await request('POST', `${app.url}/set?key=k&value=1`, { headers: [['cookie', bad]] });
        assert.equal(set.status, 204, shown);
        const fresh = sessionCookie(set);
        assert.notEqual(fresh, good, shown);
        if (stored) assert.equal(fresh.length, good.length, shown);
      }
      const dup = await request('GET', `${app.url}/get?key=user`, {
        headers: [['cookie', `beegosessionID=junk; ${good}`]],
      });
      assert.equal(dup.json(), 'bob', 'the real session among duplicates is found');
      for (const [method, path] of [['GET', '/get'], ['POST', '/set?key=a'], ['POST', '/flash?level=x'], ['POST', '/login']]) {
        const res = await request(method, app.url + path);
        assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      }
      assert.equal((await request('GET', `${app.url}/get?key=%ZZ%&%%=%`)).status, 200);
    });

    it('accepts the id in a header only when enabled', async () => {
      const on = await start(provider, { EnableSidInHTTPHeader: true, SessionNameInHTTPHeader: 'X-Session' });
      try {
        const res = await request('POST', `${on.url}/set?key=a&value=7`);
        const id = res.headers['x-session'];
        assert.equal(id.length, 32);
        if (stored) {
          const got = await request('GET', `${on.url}/get?key=a`, { headers: [['X-Session', id]] });
          assert.equal(got.json(), 7);
        }
      } finally {
        await on.close();
      }
      const res = await request('POST', `${app.url}/set?key=a&value=7`);
      assert.equal(res.headers.beegosessionid, undefined);
      const value = sessionCookie(res).slice('beegosessionID='.length);
      const viaHeader = await request('GET', `${app.url}/get?key=a`, { headers: [['Beegosessionid', value]] });
      assert.equal(viaHeader.json(), null);
      const viaQuery = await request('GET', `${app.url}/get?key=a&beegosessionID=${value}`);
      assert.equal(viaQuery.json(), null);
    });

    it('accepts the id in the query or a form only when enabled', async () => {
      const on = await start(provider, { EnableSidInURLQuery: true });
      try {
        const res = await request('POST', `${on.url}/set?key=a&value=8`);
        const value = sessionCookie(res).slice('beegosessionID='.length);
        const got = await request('GET', `${on.url}/get?key=a&beegosessionID=${encodeURIComponent(value)}`);
        assert.equal(got.json(), 8);
        if (stored) {
          const form = await request('POST', `${on.url}/set?key=b&value=9`, {
            headers: [['content-type', 'application/x-www-form-urlencoded']],
            body: `beegosessionID=${value}`,
          });
          assert.equal(form.status, 204);
          assert.equal(form.setCookies.length, 0, 'known session: no new cookie');
          const b = await request('GET', `${on.url}/get?key=b&beegosessionID=${value}`);
          assert.equal(b.json(), 9);
        }
      } finally {
        await on.close();
      }
    });

    it('sends Secure behind a trusted proxy only', async () => {
      const secure = await start(provider, { secure: true, trustForwardedProto: true });
      try {
        const plain = await request('POST', `${secure.url}/set?key=a&value=1`);
        assert.doesNotMatch(plain.setCookies[0], /Secure/);
        const proxied = await request('POST', `${secure.url}/set?key=a&value=1`, {
          headers: [['X-Forwarded-Proto', 'https']],
        });
        assert.match(proxied.setCookies[0], /Secure/);
      } finally {
        await secure.close();
      }
    });

    if (stored) {
      it('keeps all of fifty parallel writes to one session', async () => {
        const cookie = sessionCookie(await request('POST', `${app.url}/set?key=start&value=0`));
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            request('POST', `${app.url}/set?key=k${i}&value=${i}`, { headers: [['cookie', cookie]] }),
          ),
        );
        for (const r of results) assert.equal(r.status, 204);
        for (let i = 0; i < 50; i++) {
          const got = await request('GET', `${app.url}/get?key=k${i}`, { headers: [['cookie', cookie]] });
          assert.equal(got.json(), i, `k${i}`);
        }
      });
    }
  });
}
