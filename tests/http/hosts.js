// The apps the behaviour suite runs against: the Rust demo binary on each provider, and the
// Worker example of polysession-wasm under Node, Deno and workerd. Each host starts an app
// with options (camelCase beego keys) on 127.0.0.1 and stops it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, freePort, ready, waitForHttp, sleep } from './support/http.js';

const CI = process.env.CI === 'true';
const root = new URL('../..', import.meta.url).pathname;
const wasmDir = join(root, 'wasm');

// A missing binary or server fails under CI=true; elsewhere the host is skipped, saying why.
function need(ok, what) {
  if (ok) return undefined;
  if (CI) throw new Error(`${what} (CI=true: every host must run)`);
  return what;
}

async function reachable(host, port) {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const unique = (tag) => `ps${process.pid}${tag}${Math.random().toString(36).slice(2, 8)}`;

// --- the Rust demo -----------------------------------------------------------------------

const targetDir = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache/polysession/target');
export const demoBin = process.env.POLYSESSION_DEMO_BIN ?? join(targetDir, 'debug/polysession-demo');

// An app process that takes the demo's flags: `--port 0 --session-config <JSON>`.
async function demo(sessionConfig, command = [demoBin]) {
  const [bin, ...args] = command;
  const child = spawn(bin, [...args, '--port', '0', '--session-config', JSON.stringify(sessionConfig)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [url] = await ready(child, /http:\/\/\S+/);
  return {
    url,
    wait: sleep,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill();
      }),
  };
}

const redisAddr = process.env.POLYSESSION_REDIS ?? '127.0.0.1:6379';
const pgAddr = process.env.POLYSESSION_POSTGRES_ADDR ?? '127.0.0.1:5432';
const KEYS = ['a behaviour-suite secret of 32+ bytes'];

// The provider configs of the Rust demo's hosts; `dir` is a fresh temp dir per app.
const rustProviders = {
  memory: () => '',
  file: (dir) => join(dir, 'sessions'),
  redis: () => JSON.stringify({ save_path: redisAddr, prefix: `${unique('http')}:` }),
  postgresql: () =>
    JSON.stringify({ dsn: `postgres://postgres@${pgAddr}/test?sslmode=disable`, table: unique('http') }),
  cookie: () => JSON.stringify({ keys: KEYS }),
};

const servers = { redis: redisAddr, postgresql: pgAddr };

// A private redis-server for the outage case: stopped and started again by the test.
async function privateRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'polysession-redis-'));
  let child;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100 && !(await reachable('127.0.0.1', port)); i++) await sleep(50);
  };
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  await start();
  return { addr: `127.0.0.1:${port}`, start, stop, dispose: async () => (await stop(), rmSync(dir, { recursive: true, force: true })) };
}

// The Rust demo, or another app taking its flags (`command`, e.g. the Express example).
export async function rustHost(provider, { name = 'Rust demo (axum)', command = [demoBin], binary = demoBin } = {}) {
  const missing =
    need(existsSync(binary), `${binary} not found (cargo build -p polysession-demo; node: bash scripts/node.sh build)`) ??
    (servers[provider]
      ? need(await reachable(...servers[provider].split(':')), `${provider} is not reachable at ${servers[provider]}`)
      : undefined);
  const host = {
    name: `${name}, ${provider}`,
    skip: missing,
    stored: provider !== 'cookie',
    clock: false,
    async start(options = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'polysession-http-'));
      const app = await demo({ provider, providerConfig: rustProviders[provider](dir), ...options }, command);
      return { ...app, close: async () => (await app.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  };
  if (provider === 'redis') {
    host.outage = async () => {
      const redis = await privateRedis();
      const config = { provider, providerConfig: JSON.stringify({ save_path: redis.addr, timeout_ms: 500 }) };
      const app = await demo(config, command);
      return {
        ...app,
        breakStore: redis.stop,
        restoreStore: redis.start,
        close: async () => (await app.close(), await redis.dispose()),
      };
    };
  }
  return host;
}

// The Express example of the Node package (node/examples/express.js), Express 5 or 4, on the
// native addon or (wasm) on its polysession-wasm fallback.
export async function expressHost(provider, express = 'express', { wasm = false } = {}) {
  const example = join(root, 'node/examples/express.js');
  const addon = join(root, 'node/polysession.linux-x64-gnu.node');
  const backend = wasm ? ', wasm fallback' : '';
  const host = await rustHost(provider, {
    name: `Express ${express === 'express' ? 5 : 4} example (Node${backend})`,
    command: [process.execPath, example],
    binary: wasm ? join(root, 'wasm/pkg/polysession_wasm_bg.wasm') : addon,
  });
  const env = { POLYSESSION_EXPRESS: express, POLYSESSION_FORCE_WASM: wasm ? '1' : undefined };
  const start = host.start;
  host.start = (options) => withEnv(env, () => start(options));
  if (host.outage) {
    const outage = host.outage;
    host.outage = () => withEnv(env, outage);
  }
  return host;
}

// The Flask and Starlette examples of the Python package (python/examples/), in the venv
// scripts/python.sh makes, with the native module built in place.
const venvPython = process.env.POLYSESSION_VENV_PYTHON ?? join(homedir(), '.cache/polysession/venv/bin/python');
const nativeBuilt = () => readdirSync(join(root, 'python/polysession')).some((f) => f.startsWith('_native'));

export async function pythonHost(provider, framework) {
  const example = join(root, `python/examples/${framework}_app.py`);
  const host = await rustHost(provider, {
    name: framework === 'flask' ? 'Flask example (Python WSGI)' : 'Starlette example (Python ASGI)',
    command: [venvPython, example],
    binary: venvPython,
  });
  if (!host.skip && !nativeBuilt()) host.skip = need(false, 'the Python module is not built (bash scripts/python.sh build)');
  return host;
}

// Runs `fn` with extra environment variables for the processes it spawns.
async function withEnv(vars, fn) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

// --- the Worker example (polysession-wasm) -------------------------------------------------

const wasmBin = (name) => join(wasmDir, 'node_modules/.bin', name);
const pkgBuilt = existsSync(join(wasmDir, 'pkg/polysession_wasm_bg.wasm'));
const EDGE_KEYS = 'a behaviour-suite secret of 32+ bytes';

// In this Node process, with a clock the test moves; kv is a Map with the Workers KV API.
export async function workerHost(provider) {
  const missing = need(pkgBuilt, 'wasm/pkg is not built (bash scripts/wasm.sh build)');
  const load = async () => {
    const [{ default: worker }, { MapKV }] = await Promise.all([
      import(join(wasmDir, 'examples/worker.js')),
      import(join(wasmDir, 'test/support/kv.js')),
    ]);
    return { worker, MapKV };
  };
  const start = async (options = {}) => {
    const { worker, MapKV } = await load();
    const clock = { t: Date.now() };
    const now = () => clock.t;
    const env = { SESSION_OPTIONS: { now, ...options } };
    if (provider === 'kv') env.SESSIONS = new MapKV(now);
    if (provider === 'memory') env.SESSION_OPTIONS.provider = 'memory';
    if (provider === 'cookie') env.SESSION_KEYS = EDGE_KEYS;
    const server = await serve(worker, env);
    return { ...server, env, wait: async (ms) => void (clock.t += ms) };
  };
  return {
    name: `Worker example in Node (wasm), ${provider}`,
    skip: missing,
    stored: provider !== 'cookie',
    clock: true,
    start,
    outage:
      provider === 'kv'
        ? async () => {
            const app = await start();
            return {
              ...app,
              breakStore: async () => void (app.env.SESSIONS.failing = true),
              restoreStore: async () => void (app.env.SESSIONS.failing = false),
            };
          }
        : undefined,
  };
}

// Under Deno (the package's `deno` entry), a real clock; options reach it as JSON.
export async function denoHost(provider) {
  const deno = wasmBin('deno');
  const missing = need(pkgBuilt, 'wasm/pkg is not built') ?? need(existsSync(deno), `${deno} is not installed (npm install in wasm/)`);
  return {
    name: `Worker example in Deno, ${provider}`,
    skip: missing,
    stored: provider !== 'cookie',
    clock: false,
    async start(options = {}) {
      const args = ['run', '--allow-net=127.0.0.1', '--allow-read=.', '--import-map=test/deno/import_map.json'];
      const child = spawn(deno, [...args, 'test/deno/serve.js', provider, JSON.stringify(options)], {
        cwd: wasmDir,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      });
      const [, port] = await ready(child, /listening (\d+)/);
      return { url: `http://127.0.0.1:${port}`, wait: sleep, close: () => stop(child) };
    },
  };
}

// In workerd (Cloudflare's runtime, the package's `workerd` entry), a real clock; options
// reach the worker through the POLYSESSION_OPTIONS environment variable.
export async function workerdHost(provider) {
  const workerd = wasmBin('workerd');
  const missing = need(pkgBuilt, 'wasm/pkg is not built') ?? need(existsSync(workerd), `${workerd} is not installed (npm install in wasm/)`);
  return {
    name: `Worker example in workerd, ${provider}`,
    skip: missing,
    stored: provider !== 'cookie',
    clock: false,
    async start(options = {}) {
      const port = await freePort();
      const child = spawn(workerd, ['serve', 'config.capnp', '--socket-addr', `${provider}=127.0.0.1:${port}`], {
        cwd: join(wasmDir, 'test/workerd'),
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, POLYSESSION_OPTIONS: JSON.stringify(options) },
      });
      const url = `http://127.0.0.1:${port}`;
      const exited = new Promise((_, reject) => child.once('exit', () => reject(new Error('workerd exited'))));
      await Promise.race([waitForHttp(url), exited]);
      exited.catch(() => {});
      return { url, wait: sleep, close: () => stop(child) };
    },
  };
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill();
  });
}

// Any app already serving the demo routes, at a base URL (POLYSESSION_BASE_URL); it cannot be
// restarted with other options, so the suite states which cases it leaves out.
export function urlHost(url, stored) {
  return {
    name: `app at ${url}`,
    stored,
    clock: false,
    app: { url, close: () => {} },
  };
}
