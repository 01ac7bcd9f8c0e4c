// Packaging: the tarballs (bash scripts/node.sh pack) install into an empty directory with the
// registry switched off (npm --offline), and the README's Express example runs from them. Express
// itself is linked from this package's node_modules: resolving it offline would need its
// registry metadata in npm's cache, which an install from a lockfile never fetches.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync, symlinkSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { createInterface } = require('node:readline');
const net = require('node:net');

const root = join(__dirname, '../..');

function readmeExample() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const at = readme.indexOf('<!-- node-readme-example');
  assert.ok(at >= 0, 'the README marks its Express example');
  const m = /```js\n([\s\S]*?)```/.exec(readme.slice(at));
  return m[1];
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

describe('packaging', () => {
  let dir;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'polysession-pack-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('installs offline from the tarballs and runs the README example', { timeout: 300_000 }, async () => {
    const dist = join(dir, 'dist');
    execFileSync('bash', [join(root, 'scripts/node.sh'), 'pack', dist], { stdio: ['ignore', 'ignore', 'inherit'] });
    const tarballs = readdirSync(dist).filter((f) => f.endsWith('.tgz')).sort();
    assert.deepEqual(tarballs, ['polysession-0.1.0.tgz', 'polysession-wasm-0.1.0.tgz']);
    const listing = execFileSync('tar', ['tzf', join(dist, 'polysession-0.1.0.tgz')], { encoding: 'utf8' });
    assert.match(listing, /package\/polysession\.linux-x64-gnu\.node/, 'the binary is in the tarball');
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), '{ "name": "readme-app", "private": true }\n');
    execFileSync(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs.map((t) => join(dist, t))],
      { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    // Node resolves a linked package from its real path, so Express finds its own dependencies.
    symlinkSync(join(__dirname, '../node_modules/express'), join(app, 'node_modules/express'), 'dir');
    writeFileSync(join(app, 'server.js'), readmeExample());
    const port = await freePort();
    const child = spawn(process.execPath, ['server.js'], { cwd: app, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (l) => l === 'listening' && resolve());
        child.once('exit', (code) => reject(new Error(`the example exited with ${code}`)));
      });
      const first = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(await first.text(), 'views: 1');
      const cookie = first.headers.get('set-cookie');
      assert.match(cookie, /^connect\.sid=[0-9a-f]{32}; HttpOnly; SameSite=Lax; Path=\/; Max-Age=60; Expires=/);
      const second = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie: cookie.split(';')[0] } });
      assert.equal(await second.text(), 'views: 2');
      const backend = execFileSync(process.execPath, ['-p', "require('polysession').backend.name"], { cwd: app, encoding: 'utf8' });
      assert.equal(backend.trim(), 'native', 'the packed binary loads');
    } finally {
      child.kill();
    }
  });
});
