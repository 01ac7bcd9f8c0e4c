// One session format across builds: a cookie sealed by the wasm build opens in the native
// build (the Rust demo binary) and the other way round, under the same keys.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import worker from '../examples/worker.js';
import { serve, request, sessionCookie } from '../../tests/http/support/http.js';

const OLD = 'a cross-build secret of at least 32 bytes';
const NEW = 'the rotated cross-build secret of 32+ bytes';

const targetDir = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache/polysession/target');
const demoBin = process.env.POLYSESSION_DEMO_BIN ?? join(targetDir, 'debug/polysession-demo');
const missing = !existsSync(demoBin);
if (missing && process.env.CI === 'true') {
  throw new Error(`native demo binary not found at ${demoBin} (build it: cargo build -p polysession-demo)`);
}

async function native(keys) {
  const child = spawn(demoBin, ['--port', '0', '--provider', 'cookie', '--provider-config', JSON.stringify({ keys })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const banner = await new Promise((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}`)));
  });
  const url = /http:\/\/\S+/.exec(banner)[0];
  return { url, close: () => child.kill() };
}

const get = async (base, key, cookie) =>
  (await request('GET', `${base}/get?key=${key}`, { headers: cookie ? [['cookie', cookie]] : [] })).json();
const set = async (base, key, json, cookie) => {
  const res = await request('POST', `${base}/set?key=${key}&value=${encodeURIComponent(JSON.stringify(json))}`, {
    headers: cookie ? [['cookie', cookie]] : [],
  });
  assert.equal(res.status, 204);
  return sessionCookie(res) ?? cookie;
};

describe('sealed cookies between the wasm and the native build', { skip: missing && `no ${demoBin}` }, () => {
  let edge, rust, rotatedEdge;
  before(async () => {
    edge = await serve(worker, { SESSION_KEYS: OLD });
    rotatedEdge = await serve(worker, { SESSION_KEYS: `${NEW},${OLD}` });
    rust = await native([OLD]);
  });
  after(async () => {
    rust?.close();
    await edge?.close();
    await rotatedEdge?.close();
  });

  it('wasm seals, native opens', async () => {
    const cookie = await set(edge.url, 'from', { build: 'wasm', n: [1, 2] });
    assert.deepEqual(await get(rust.url, 'from', cookie), { build: 'wasm', n: [1, 2] });
  });

  it('native seals, wasm opens', async () => {
    const cookie = await set(rust.url, 'from', 'native');
    assert.equal(await get(edge.url, 'from', cookie), 'native');
  });

  it('one session passes back and forth, keeping every write', async () => {
    let cookie = await set(edge.url, 'a', 1);
    cookie = await set(rust.url, 'b', 2, cookie);
    cookie = await set(edge.url, 'c', 3, cookie);
    for (const base of [edge.url, rust.url]) {
      assert.equal(await get(base, 'a', cookie), 1);
      assert.equal(await get(base, 'b', cookie), 2);
      assert.equal(await get(base, 'c', cookie), 3);
    }
    // Flash messages written natively are read once at the edge.
    const flashed = await request('POST', `${rust.url}/flash?level=notice&msg=hi`, { headers: [['cookie', cookie]] });
    cookie = sessionCookie(flashed) ?? cookie;
    const read = await request('GET', `${edge.url}/flash`, { headers: [['cookie', cookie]] });
    assert.deepEqual(read.json(), { notice: ['hi'] });
  });

  it('a rotated wasm ring opens native cookies, and native opens what it re-seals', async () => {
    const cookie = await set(rust.url, 'user', 'ann');
    assert.equal(await get(rotatedEdge.url, 'user', cookie), 'ann');
    const resealed = await set(rotatedEdge.url, 'cart', 1, cookie);
    // Sealed under NEW now: the native demo, which only has OLD, cannot open it.
    assert.equal(await get(rust.url, 'user', resealed), null);
    const rotatedRust = await native([NEW, OLD]);
    try {
      assert.equal(await get(rotatedRust.url, 'user', resealed), 'ann');
      assert.equal(await get(rotatedRust.url, 'cart', resealed), 1);
    } finally {
      rotatedRust.close();
    }
  });
});
