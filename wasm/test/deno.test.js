// The Deno entry point: the Worker example served by Deno (from the npm `deno` package) over
// real HTTP, for the kv and cookie providers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { request, sessionCookie, Browser } from './support/http.js';

const deno = new URL('../node_modules/.bin/deno', import.meta.url).pathname;
const missing = !existsSync(deno);
if (missing && process.env.CI === 'true') throw new Error(`deno not installed at ${deno} (npm install)`);

async function serveWithDeno(provider) {
  const child = spawn(
    deno,
    ['run', '--allow-net=127.0.0.1', '--allow-read=.', '--import-map=test/deno/import_map.json', 'test/deno/serve.js', provider],
    { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } },
  );
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`deno exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${/listening (\d+)/.exec(line)[1]}`, close: () => child.kill() };
}

for (const provider of ['kv', 'cookie']) {
  describe(`the Worker example under Deno, ${provider} provider`, { skip: missing && 'no deno' }, () => {
    let app;
    before(async () => {
      app = await serveWithDeno(provider);
    });
    after(() => app?.close());

    it('counts per client and sets the cookie headers', async () => {
      const [a, b] = [new Browser(app.url), new Browser(app.url)];
      const first = await a.get('/');
      assert.match(first.text, /id="num">0</);
      assert.match(first.setCookies[0], /^beegosessionID=[^;]+; HttpOnly; SameSite=Lax; Path=\/$/);
      assert.equal(first.headers['cache-control'], 'no-store');
      assert.equal(first.headers.vary, 'Cookie');
      assert.equal(await a.counter(), 1);
      assert.equal(await b.counter(), 0);
      assert.equal(await a.counter(), 2);
    });

    it('sets, flashes, logs in and out', async () => {
      const c = new Browser(app.url);
      await c.post('/set?key=obj&value=%7B%22a%22%3A1%7D');
      assert.deepEqual(await c.value('obj'), { a: 1 });
      await c.post('/flash?level=notice&msg=hi');
      assert.deepEqual((await c.get('/flash')).json(), { notice: ['hi'] });
      const before = c.cookie;
      await c.post('/login?user=ann');
      assert.notEqual(c.cookie, before);
      assert.equal(await c.value('user'), 'ann');
      assert.deepEqual(await c.value('obj'), { a: 1 });
      const out = await c.post('/logout');
      assert.match(out.setCookies[0], /Max-Age=0/);
      assert.equal(await c.value('user'), null);
    });

    it('gives a bad cookie a fresh session', async () => {
      const res = await request('POST', `${app.url}/set?key=a&value=1`, { headers: [['cookie', 'beegosessionID=../../x; beegosessionID=\xff']] });
      assert.equal(res.status, 204);
      assert.ok(sessionCookie(res));
    });
  });
}
