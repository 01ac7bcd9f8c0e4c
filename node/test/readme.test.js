// express-session's README examples, run unchanged but for the require line, under Express 5
// and Express 4, over real HTTP.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { createInterface } = require('node:readline');
const http = require('node:http');
const { join } = require('node:path');

function start(example, express) {
  const child = spawn(process.execPath, ['--require', join(__dirname, 'support/listen.js'), join(__dirname, 'readme', example)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, POLYSESSION_EXPRESS: express },
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, close: () => child.kill() });
    });
    child.once('exit', (code) => reject(new Error(`${example} exited with ${code}`)));
  });
}

// A client with a cookie jar.
function browser(base) {
  let cookie;
  return async (method, path, body) => {
    const headers = {};
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const res = await new Promise((resolve, reject) => {
      const req = http.request(base + path, { method, headers }, (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
    for (const set of res.headers['set-cookie'] ?? []) cookie = /max-age=0/i.test(set) ? undefined : set.split(';')[0];
    res.cookie = cookie;
    return res;
  };
}

for (const express of ['express', 'express4']) {
  describe(`express-session README examples, ${express === 'express' ? 'Express 5' : 'Express 4'}`, () => {
    const apps = {};
    before(async () => {
      for (const name of ['view-counter.js', 'user-login.js', 'req-session.js']) apps[name] = await start(name, express);
    });
    after(() => Object.values(apps).forEach((a) => a.close()));

    it('counts views per page and per client', async () => {
      const [a, b] = [browser(apps['view-counter.js'].url), browser(apps['view-counter.js'].url)];
      assert.equal((await a('GET', '/foo')).text, 'you viewed this page 1 times');
      assert.equal((await a('GET', '/foo')).text, 'you viewed this page 2 times');
      assert.equal((await a('GET', '/bar')).text, 'you viewed this page 1 times');
      assert.equal((await b('GET', '/foo')).text, 'you viewed this page 1 times');
      assert.equal((await a('GET', '/foo')).text, 'you viewed this page 3 times');
    });

    it('logs in with regenerate then save, and out with save then regenerate', async () => {
      const c = browser(apps['user-login.js'].url);
      const form = await c('GET', '/');
      assert.match(form.text, /<form action="\/login"/);
      const before = form.cookie;
      const login = await c('POST', '/login', 'user=ann%3Cb%3E&pass=x');
      assert.equal(login.status, 302);
      assert.equal(login.headers.location, '/');
      assert.notEqual(login.cookie, before, 'a new id at login');
      const home = await c('GET', '/');
      assert.equal(home.text, 'hello, ann&lt;b&gt;! <a href="/logout">Logout</a>');
      const loggedIn = login.cookie;
      const out = await c('GET', '/logout');
      assert.equal(out.status, 302);
      assert.notEqual(out.cookie, loggedIn, 'a new id at logout');
      assert.match((await c('GET', '/')).text, /<form/);
      // Re-using the logged-in id does not give the user back.
      const old = await new Promise((resolve) => {
        http.get(`${apps['user-login.js'].url}/`, { headers: { cookie: loggedIn } }, (r) => {
          let t = '';
          r.on('data', (d) => (t += d));
          r.on('end', () => resolve(t));
        });
      });
      assert.match(old, /<form/);
    });

    it('writes with res.write, shows cookie.maxAge, and destroys at logout', async () => {
      const c = browser(apps['req-session.js'].url);
      const first = await c('GET', '/');
      assert.equal(first.text, 'welcome to the session demo. refresh!');
      assert.match(first.headers['set-cookie'][0], /Max-Age=60/);
      const second = await c('GET', '/');
      assert.equal(second.text, '<p>views: 2</p><p>expires in: 60s</p>');
      assert.equal((await c('GET', '/')).text, '<p>views: 3</p><p>expires in: 60s</p>');
      const bye = await c('GET', '/logout');
      assert.equal(bye.text, 'bye');
      assert.match(bye.headers['set-cookie'][0], /Max-Age=0/);
      assert.equal((await c('GET', '/')).text, 'welcome to the session demo. refresh!');
    });
  });
}
