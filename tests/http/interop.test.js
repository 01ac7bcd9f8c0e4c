// One session format across runtimes: a session written by one host is read and updated by
// another sharing the store (Rust demo, Express, Flask and Starlette examples over Redis,
// files, PostgreSQL), and a cookie sealed by one opens in the others (the same four and
// polysession-wasm's Worker).
// Prints the matrix.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rustHost, expressHost, workerHost, pythonHost } from './hosts.js';
import { request, sessionCookie } from './support/http.js';

const redisAddr = process.env.POLYSESSION_REDIS ?? '127.0.0.1:6379';
const pgAddr = process.env.POLYSESSION_POSTGRES_ADDR ?? '127.0.0.1:5432';
const tag = `ps${process.pid}interop`;
const dir = mkdtempSync(join(tmpdir(), 'polysession-interop-'));
const shared = {
  redis: JSON.stringify({ save_path: redisAddr, prefix: `${tag}:` }),
  file: join(dir, 'sessions'),
  postgresql: JSON.stringify({ dsn: `postgres://postgres@${pgAddr}/test?sslmode=disable`, table: tag }),
  cookie: JSON.stringify({ keys: ['a behaviour-suite secret of 32+ bytes'] }),
};

const matrix = [];
const withCookie = (cookie) => ({ headers: [['cookie', cookie]] });
const value = async (app, key, cookie) => (await request('GET', `${app.url}/get?key=${key}`, withCookie(cookie))).json();

async function roundTrip(writer, reader, stored) {
  const first = await request('POST', `${writer.url}/set?key=from&value=${encodeURIComponent('"writer"')}`);
  assert.equal(first.status, 204);
  let cookie = sessionCookie(first);
  assert.equal(await value(reader, 'from', cookie), 'writer', 'read by the other host');
  const update = await request('POST', `${reader.url}/set?key=n&value=2`, withCookie(cookie));
  assert.equal(update.status, 204);
  cookie = sessionCookie(update) ?? cookie; // a sealed session travels in a new cookie
  assert.equal(await value(writer, 'n', cookie), 2, 'the update read back by the writer');
  assert.equal(await value(writer, 'from', cookie), 'writer');
  if (stored) {
    const out = await request('POST', `${reader.url}/logout`, withCookie(cookie));
    assert.equal(out.status, 204);
    assert.equal(await value(writer, 'from', cookie), null, 'a logout on one host ends it on the other');
  }
}

const flaskHost = (store) => pythonHost(store, 'flask');
const starletteHost = (store) => pythonHost(store, 'starlette');
const hostsFor = {
  redis: [rustHost, expressHost, flaskHost, starletteHost],
  file: [rustHost, expressHost, flaskHost, starletteHost],
  postgresql: [rustHost, expressHost, flaskHost, starletteHost],
  cookie: [rustHost, expressHost, workerHost, flaskHost, starletteHost],
};

describe('interop: one session across hosts', () => {
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    const width = Math.max(...matrix.map((r) => r.pair.length));
    console.log('\ninterop matrix (writer -> reader: read, update, logout):');
    for (const r of matrix) console.log(`  ${r.store.padEnd(10)} ${r.pair.padEnd(width)}  ${r.ok ? 'ok' : 'FAILED'}`);
  });

  for (const [store, makers] of Object.entries(hostsFor)) {
    describe(store, () => {
      const apps = [];
      let skip;
      before(async () => {
        const hosts = await Promise.all(makers.map((make) => make(store)));
        skip = hosts.find((h) => h.skip)?.skip;
        if (skip) return;
        for (const host of hosts) {
          const options = host.clock ? {} : { provider: store, providerConfig: shared[store] };
          apps.push({ name: host.name.split(',')[0], app: await host.start(options) });
        }
      });
      after(() => Promise.all(apps.map((a) => a.app.close())));

      for (let w = 0; w < makers.length; w++) {
        for (let r = 0; r < makers.length; r++) {
          if (w === r) continue;
          it(`writer #${w + 1} -> reader #${r + 1}`, async (t) => {
            if (skip) return t.skip(skip);
            const [writer, reader] = [apps[w], apps[r]];
            const row = { store, pair: `${writer.name} -> ${reader.name}`, ok: false };
            matrix.push(row);
            await roundTrip(writer.app, reader.app, store !== 'cookie');
            row.ok = true;
          });
        }
      }
    });
  }
});
