// JS stores against the conformance kit's cases (the Rust kit, run from JS through the test
// build of the addon), and a failing JS store behind Express: 503, then recovery.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const express = require('express');
const expressSession = require('express-session');
const session = require('polysession');
const binding = require('../binding.js');
const { normalizeStore } = require('../js/stores.js');

const CI = process.env.CI === 'true';
const redisUrl = `redis://${process.env.POLYSESSION_REDIS ?? '127.0.0.1:6379'}`;

// A Map with the Workers KV interface that expires entries (TTL in seconds, real time).
class MapKV {
  constructor() {
    this.entries = new Map();
    this.failing = false;
  }
  #live(key) {
    const e = this.entries.get(key);
    if (e && e.expires <= Date.now()) this.entries.delete(key);
    return this.entries.get(key);
  }
  #check(op) {
    if (this.failing) throw new Error(`KV ${op}: connection lost`);
  }
  async get(key) {
    this.#check('get');
    return this.#live(key)?.value ?? null;
  }
  async put(key, value, { expirationTtl }) {
    this.#check('put');
    this.entries.set(key, { value, expires: Date.now() + expirationTtl * 1000 });
  }
  async delete(key) {
    this.#check('delete');
    this.entries.delete(key);
  }
  async list({ prefix, cursor }) {
    this.#check('list');
    const names = [...this.entries.keys()].filter((k) => k.startsWith(prefix) && this.#live(k)).sort();
    const start = cursor ? Number(cursor) : 0;
    const done = start + 3 >= names.length;
    return { keys: names.slice(start, start + 3).map((name) => ({ name })), list_complete: done, cursor: done ? undefined : String(start + 3) };
  }
}

const conformance = (label, store, config) => binding.runConformance(label, normalizeStore(store), config);

describe('JS stores pass the conformance kit', () => {
  it('a KV-shaped Map store, with a prefix', async () => {
    await conformance('MapKV', new MapKV(), '{"prefix":"t:"}');
  });

  it("express-session's own MemoryStore, through the express-session Store adapter", async () => {
    await conformance('express-session MemoryStore', new expressSession.MemoryStore());
  });

  describe('connect-redis on the real Redis, through the adapter', () => {
    let client;
    let skip = false;
    before(async () => {
      const { createClient } = require('redis');
      client = createClient({ url: redisUrl });
      client.on('error', () => {});
      try {
        await client.connect();
      } catch (err) {
        if (CI) throw err;
        skip = `Redis is not reachable at ${redisUrl}`;
      }
    });
    after(() => client?.isOpen && client.quit());

    it('passes every case, with connect-redis keeping the TTL from sess.cookie', async (t) => {
      if (skip) return t.skip(skip);
      const { RedisStore } = require('connect-redis');
      const prefix = `ps${process.pid}cr:`;
      const store = new RedisStore({ client, prefix });
      await conformance('connect-redis', store);
      // The adapter's record beside the cookie connect-redis reads its expiry from.
      const app = express().use(session({ store })).get('/', (req, res) => {
        req.session.n = 1;
        res.end();
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      try {
        const res = await fetch(`http://127.0.0.1:${server.address().port}/`);
        const id = res.headers.get('set-cookie').split(';')[0].split('=')[1];
        const raw = JSON.parse(await client.get(`${prefix}${id}`));
        assert.match(raw.ps, /^ps1:1:\d+:\{"v":1,"created":\d+,"data":\{"n":1\}\}$/);
        assert.ok(new Date(raw.cookie.expires) > new Date(), 'sess.cookie.expires in the future');
        const ttl = await client.ttl(`${prefix}${id}`);
        assert.ok(ttl > 3500 && ttl <= 3600, `TTL ${ttl} from the session's 3600 s lifetime`);
      } finally {
        server.close();
      }
    });
  });
});

describe('a failing JS store behind Express', () => {
  it('answers 503 with Retry-After, then recovers', async () => {
    const kv = new MapKV();
    const app = express();
    app.use(session({ store: kv }));
    app.get('/', (req, res) => {
      req.session.n = (req.session.n ?? 0) + 1;
      res.send(String(req.session.n));
    });
    app.use((err, req, res, next) => {
      const { status, headers, body } = session.errorResponseInit(err);
      res.status(status).set(Object.fromEntries(headers)).send(body);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${server.address().port}/`;
    const get = (cookie) =>
      new Promise((resolve, reject) => {
        http.get(url, { headers: cookie ? { cookie } : {} }, (r) => {
          let text = '';
          r.on('data', (d) => (text += d));
          r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, text }));
        }).on('error', reject);
      });
    try {
      const first = await get();
      assert.equal(first.text, '1');
      const cookie = first.headers['set-cookie'][0].split(';')[0];
      kv.failing = true;
      const down = await get(cookie);
      assert.equal(down.status, 503);
      assert.equal(down.headers['retry-after'], '1');
      assert.equal(down.text, '503 session store unavailable, please retry (STORE_UNAVAILABLE)\n');
      kv.failing = false;
      const back = await get(cookie);
      assert.equal(back.status, 200);
      assert.equal(back.text, '2', 'the session survived the outage');
    } finally {
      server.close();
    }
  });
});
