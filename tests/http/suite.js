// The demo routes' behaviour list, written once for every host: any app serving the demo
// routes (see the README's table) passes it. A host describes how to start the app with
// options (camelCase beego keys) and what its provider can do:
//
//   {
//     name,                 // shown in the test names
//     stored,               // sessions live on the server: logout and regenerate kill old
//                           // copies, /stats counts, concurrent writers merge. A sealed
//                           // cookie cannot revoke a copy a client kept, nor count: those
//                           // cases assert the sealed behaviour instead (501, old copy valid).
//     clock,                // true when app.wait(ms) moves the app's clock instead of sleeping
//     start(options),       // -> { url, close(), wait(ms) }
//     outage,               // optional: () -> app with breakStore() and restoreStore()
//   }
//
// Cases that need options (transports, lifetimes) need `start(options)`; a host made from a
// bare base URL runs the others and states which it cannot run.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, sessionCookie, Browser, sleep } from './support/http.js';

// What every host answers for a session failure (the host kit's `error_response`).
export const FAILURES = {
  TOO_LARGE: {
    status: 413,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: '413 session too large (TOO_LARGE)\n',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' },
    body: '503 session store unavailable, please retry (STORE_UNAVAILABLE)\n',
  },
};

function assertFailure(res, code) {
  const want = FAILURES[code];
  assert.equal(res.status, want.status, `${code}: ${res.text}`);
  for (const [name, value] of Object.entries(want.headers)) assert.equal(res.headers[name], value, `${code}: ${name}`);
  if (want.status !== 503) assert.equal(res.headers['retry-after'], undefined, `${code}: no retry-after`);
  assert.equal(res.text, want.body);
  assert.equal(res.setCookies.length, 0, `${code}: no cookie`);
}

const withCookie = (cookie) => ({ headers: cookie ? [['cookie', cookie]] : [] });

export function behaviour(host) {
  const { stored } = host;
  const needsOptions = host.start ? false : 'this host serves one fixed app (a base URL); the case needs other options';

  describe(`demo routes: ${host.name}`, () => {
    let app;
    before(async () => {
      app = host.start ? await host.start({}) : host.app;
    });
    after(() => app?.close?.());

    async function fresh(options, run) {
      const other = await host.start(options);
      try {
        return await run(other);
      } finally {
        await other.close();
      }
    }

    it('counts per client, with the cookie and cache headers', async () => {
      const [a, b] = [new Browser(app.url), new Browser(app.url)];
      const first = await a.get('/');
      assert.equal(first.status, 200);
      assert.match(first.text, /id="num">0</);
      assert.equal(first.setCookies.length, 1, 'exactly one Set-Cookie');
      const cookie = first.setCookies[0];
      assert.match(cookie, /^beegosessionID=/);
      if (stored) assert.equal(sessionCookie(first).length, 'beegosessionID='.length + 32);
      for (const attr of [/HttpOnly/, /Path=\//, /SameSite=Lax/]) assert.match(cookie, attr);
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
      const read = await a.get('/get?key=secret');
      assert.equal(read.setCookies.length, 0, 'a read sends no cookie');
      assert.equal(read.headers.vary, 'Cookie');
      assert.equal(read.headers['cache-control'], undefined, 'no id sent: cacheable as the app says');
    });

    it('reports active sessions where the provider can count them', { skip: needsOptions }, async () => {
      await fresh({}, async (other) => {
        await new Browser(other.url).post('/set?key=a&value=1');
        await new Browser(other.url).post('/set?key=a&value=2');
        await new Browser(other.url).get('/get?key=a'); // reads only: never stored
        const res = await request('GET', `${other.url}/stats`);
        if (stored) {
          assert.deepEqual(res.json(), { active: 2 });
        } else {
          assert.equal(res.status, 501);
          assert.equal(res.json().active, null);
        }
      });
    });

    it('sets, gets, deletes, flushes and flashes', async () => {
      const c = new Browser(app.url);
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
      const res = await request('POST', `${app.url}/login?user=bob`, withCookie(old));
      assert.equal(res.status, 204);
      assert.equal(res.setCookies.length, 1);
      const renewed = sessionCookie(res);
      assert.notEqual(renewed, old);
      const get = async (key, cookie) => (await request('GET', `${app.url}/get?key=${key}`, withCookie(cookie))).json();
      assert.equal(await get('cart', renewed), 3);
      assert.equal(await get('user', renewed), 'bob');
      if (stored) {
        assert.equal(await get('cart', old), null, 'old id is dead');
        const again = sessionCookie(await request('POST', `${app.url}/set?key=x&value=1`, withCookie(old)));
        assert.notEqual(again, old, 'an old id is never adopted');
        assert.notEqual(again, renewed);
      } else {
        assert.equal(await get('cart', old), 3, 'a sealed copy cannot be revoked: it stays valid until it expires');
      }
    });

    it('destroys the session at logout and removes the cookie', async () => {
      const cookie = sessionCookie(await request('POST', `${app.url}/login?user=alice`));
      const res = await request('POST', `${app.url}/logout`, withCookie(cookie));
      assert.equal(res.status, 204);
      assert.equal(res.setCookies.length, 1);
      assert.match(res.setCookies[0], /^beegosessionID=;/);
      assert.match(res.setCookies[0], /Max-Age=0/);
      const user = (await request('GET', `${app.url}/get?key=user`, withCookie(cookie))).json();
      assert.equal(user, stored ? null : 'alice', stored ? 'logged out' : 'a sealed copy stays valid');
    });

    it('expires sessions after maxLifetime, sliding with use', { skip: needsOptions }, async () => {
      // Seconds: a clock the test moves, or a real one (then short, and the test sleeps).
      const lifetime = host.clock ? 120 : 2;
      await fresh({ maxLifetime: lifetime }, async (short) => {
        const c = new Browser(short.url);
        await c.post('/set?key=a&value=1');
        await short.wait(lifetime * 600);
        assert.equal(await c.value('a'), 1, 'alive within maxLifetime (and the read slides it)');
        await short.wait(lifetime * 600);
        assert.equal(await c.value('a'), 1, 'idle for less than maxLifetime');
        await short.wait(lifetime * 1100);
        assert.equal(await c.value('a'), null, 'idle for longer than maxLifetime');
      });
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
        const got = await request('GET', `${app.url}/get?key=user`, withCookie(bad));
        assert.equal(got.status, 200, shown);
        assert.equal(got.json(), null, shown);
        const set = await request('POST', `${app.url}/set?key=k&value=1`, withCookie(bad));
        assert.equal(set.status, 204, shown);
        const fresh = sessionCookie(set);
        assert.notEqual(fresh, good, shown);
        if (stored) assert.equal(fresh.length, good.length, shown);
      }
      const dup = await request('GET', `${app.url}/get?key=user`, withCookie(`beegosessionID=junk; ${good}`));
      assert.equal(dup.json(), 'bob', 'the real session among duplicates is found');
      assert.equal((await request('GET', `${app.url}/get?key=user`, withCookie(good))).json(), 'bob', 'untouched');
      for (const [method, path] of [['GET', '/get'], ['POST', '/set?key=a'], ['POST', '/flash?level=x'], ['POST', '/login']]) {
        const res = await request(method, app.url + path);
        assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      }
      assert.equal((await request('GET', `${app.url}/get?key=%ZZ%&%%=%`)).status, 200);
    });

    it('accepts the id in a header only when enabled', { skip: needsOptions }, async () => {
      await fresh({ EnableSidInHTTPHeader: true, SessionNameInHTTPHeader: 'X-Session' }, async (on) => {
        const res = await request('POST', `${on.url}/set?key=a&value=7`);
        const id = res.headers['x-session'];
        assert.equal(id.length, 32);
        if (stored) {
          const got = await request('GET', `${on.url}/get?key=a`, { headers: [['X-Session', id]] });
          assert.equal(got.json(), 7);
        }
      });
      const res = await request('POST', `${app.url}/set?key=a&value=7`);
      assert.equal(res.headers.beegosessionid, undefined);
      const value = sessionCookie(res).slice('beegosessionID='.length);
      const viaHeader = await request('GET', `${app.url}/get?key=a`, { headers: [['Beegosessionid', value]] });
      assert.equal(viaHeader.json(), null);
      const viaQuery = await request('GET', `${app.url}/get?key=a&beegosessionID=${value}`);
      assert.equal(viaQuery.json(), null);
    });

    it('accepts the id in the query or a form only when enabled', { skip: needsOptions }, async () => {
      await fresh({ EnableSidInURLQuery: true }, async (on) => {
        const res = await request('POST', `${on.url}/set?key=a&value=8`);
        const value = sessionCookie(res).slice('beegosessionID='.length);
        const got = await request('GET', `${on.url}/get?key=a&beegosessionID=${encodeURIComponent(value)}`);
        assert.equal(got.json(), 8);
        if (!stored) return; // a sealed session in a form is as good as in the query
        const form = (extra) => ({
          headers: [['content-type', 'application/x-www-form-urlencoded']],
          body: `beegosessionID=${value}`,
          ...extra,
        });
        const posted = await request('POST', `${on.url}/set?key=b&value=9`, form());
        assert.equal(posted.status, 204);
        assert.equal(posted.setCookies.length, 0, 'known session: no new cookie');
        assert.equal((await request('GET', `${on.url}/get?key=b&beegosessionID=${value}`)).json(), 9);
        // The form-body policy: never a body without a Content-Length.
        const chunked = await request('POST', `${on.url}/set?key=c&value=1`, form({ chunked: true }));
        assert.equal(chunked.status, 204);
        assert.equal(chunked.setCookies.length, 1, 'a chunked form is not read: a new session');
        assert.equal((await request('GET', `${on.url}/get?key=c&beegosessionID=${value}`)).json(), null);
      });
    });

    it('sends Secure behind a trusted proxy only', { skip: needsOptions }, async () => {
      await fresh({ secure: true, trustForwardedProto: true }, async (secure) => {
        const plain = await request('POST', `${secure.url}/set?key=a&value=1`);
        assert.doesNotMatch(plain.setCookies[0], /Secure/);
        const proxied = await request('POST', `${secure.url}/set?key=a&value=1`, {
          headers: [['X-Forwarded-Proto', 'https']],
        });
        assert.match(proxied.setCookies[0], /Secure/);
      });
    });

    it('keeps all of fifty parallel writes to one session', { skip: !stored && 'each client holds its own sealed copy: nothing to merge' }, async () => {
      const cookie = sessionCookie(await request('POST', `${app.url}/set?key=start&value=0`));
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => request('POST', `${app.url}/set?key=k${i}&value=${i}`, withCookie(cookie))),
      );
      for (const r of results) assert.equal(r.status, 204);
      for (let i = 0; i < 50; i++) {
        const got = await request('GET', `${app.url}/get?key=k${i}`, withCookie(cookie));
        assert.equal(got.json(), i, `k${i}`);
      }
    });

    it('answers a session too large for its store with 413', { skip: stored && needsOptions }, async () => {
      // Sealed cookies: the browser's 4096 bytes. Stored sessions: maxSessionBytes.
      const run = async (target) => {
        const c = new Browser(target.url);
        await c.post('/set?key=a&value=1');
        const big = encodeURIComponent(JSON.stringify('x'.repeat(5000)));
        assertFailure(await c.post(`/set?key=big&value=${big}`), 'TOO_LARGE');
        assert.equal(await c.value('a'), 1, 'the session is unharmed');
      };
      if (stored) await fresh({ maxSessionBytes: 2000 }, run);
      else await run(app);
    });

    it('answers a store outage with 503 and recovers', { skip: !host.outage && 'this host has no store to break here' }, async () => {
      const broken = await host.outage();
      try {
        const c = new Browser(broken.url);
        await c.post('/set?key=a&value=1');
        await broken.breakStore();
        assertFailure(await c.get('/get?key=a'), 'STORE_UNAVAILABLE');
        assertFailure(await c.post('/set?key=b&value=2'), 'STORE_UNAVAILABLE');
        await broken.restoreStore();
        let got;
        for (let i = 0; i < 50; i++) {
          got = await c.get('/get?key=a');
          if (got.status === 200) break;
          await sleep(100);
        }
        assert.equal(got.status, 200, 'traffic recovers with the store');
        assert.equal((await c.post('/set?key=b&value=2')).status, 204);
      } finally {
        await broken.close();
      }
    });
  });
}
