// The package's Deno and Cloudflare Workers entry points: the Worker example served by Deno and
// by workerd (both from npm) over real HTTP.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { request, sessionCookie, Browser } from './support/http.js';

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const deno = bin('deno');
const workerd = bin('workerd');
for (const tool of [deno, workerd]) {
  if (!existsSync(tool) && process.env.CI === 'true') throw new Error(`${tool} is not installed (npm install)`);
}
const root = new URL('..', import.meta.url).pathname;

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function ready(child, pattern) {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const m = pattern.exec(line);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`${child.spawnfile} exited with ${code}`)));
  });
}

async function waitForHttp(url) {
  for (let i = 0; i < 100; i++) {
    try {
      return await request('GET', `${url}/get?key=probe`);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} never answered`);
}

// The Worker example under `Deno.serve`, importing the package's `deno` entry (js/web.js).
async function serveWithDeno(provider) {
  const child = spawn(
    deno,
    ['run', '--allow-net=127.0.0.1', '--allow-read=.', '--import-map=test/deno/import_map.json', 'test/deno/serve.js', provider],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } },
  );
  const [, port] = await ready(child, /listening (\d+)/);
  return { url: `http://127.0.0.1:${port}`, close: () => child.kill() };
}

// The Worker example in workerd, importing the package's `workerd` entry (js/workers.js).
async function serveWithWorkerd(provider) {
  const port = await freePort();
  const child = spawn(workerd, ['serve', 'config.capnp', '--socket-addr', `${provider}=127.0.0.1:${port}`], {
    cwd: `${root}test/workerd`,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([waitForHttp(url), new Promise((_, reject) => child.once('exit', () => reject(new Error('workerd exited'))))]);
  return { url, close: () => child.kill() };
}

const hosts = [
  ['Deno', deno, serveWithDeno, ['kv', 'cookie']],
  ['workerd', workerd, serveWithWorkerd, ['memory', 'cookie']],
];

for (const [host, tool, serve, providers] of hosts) for (const provider of providers) {
  describe(`the Worker example under ${host}, ${provider} provider`, { skip: !existsSync(tool) && `no ${tool}` }, () => {
    let app;
    before(async () => {
      app = await serve(provider);
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
