// Soak: the Rust demo under steady load with churn (create, write, read, regenerate at login,
// destroy at logout) for a given time. Every interval it prints the demo's RSS, its open file
// descriptors and the latency percentiles of the interval's requests; at the end, whether
// RSS and fds stayed flat (the last quarter against the second) and how many requests failed.
//
//   node bench/soak.js [provider] [seconds] [concurrency] [provider-config]
//   node bench/soak.js memory 600 16
//   node bench/soak.js redis 600 16 127.0.0.1:6379
//
// The demo binary: $POLYSESSION_DEMO_BIN, else the release build, else the debug build in
// $CARGO_TARGET_DIR (default ~/.cache/polysession/target).
'use strict';
const { spawn } = require('node:child_process');
const { existsSync, readFileSync, readdirSync } = require('node:fs');
const http = require('node:http');
const { homedir } = require('node:os');
const { join } = require('node:path');
const { createInterface } = require('node:readline');

const [provider = 'memory', seconds = '600', concurrency = '16', given] = process.argv.slice(2);
// The network stores have no default address in the demo: the local test servers' by default.
const LOCAL = {
  redis: JSON.stringify({ save_path: process.env.POLYSESSION_REDIS ?? '127.0.0.1:6379', prefix: 'soak:' }),
  memcache: process.env.POLYSESSION_MEMCACHE ?? '127.0.0.1:11211',
};
const providerConfig = given ?? LOCAL[provider];
const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache/polysession/target');
const bin =
  process.env.POLYSESSION_DEMO_BIN ??
  [join(target, 'release/polysession-demo'), join(target, 'debug/polysession-demo')].find(existsSync);
if (!bin) throw new Error('no polysession-demo binary: cargo build --release -p polysession-demo');

const INTERVAL_MS = 10_000;
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });

function request(base, method, path, cookie) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(base + path, { method, agent, headers: cookie ? { cookie } : {} }, (res) => {
      res.resume();
      res.on('end', () => {
        const set = res.headers['set-cookie']?.[0];
        resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6, cookie: set && !/Max-Age=0/i.test(set) ? set.split(';')[0] : undefined, removed: set && /Max-Age=0/i.test(set) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function sample(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]); // KiB
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  return { rss, fds };
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);

(async () => {
  const args = ['--port', '0', '--provider', provider];
  if (providerConfig) args.push('--provider-config', providerConfig);
  // Sessions live 60 s idle, so memory holds what the churn keeps alive, not everything ever made.
  args.push('--session-config', JSON.stringify({ maxLifetime: 60, gclifetime: 10 }));
  const demo = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise((resolve, reject) => {
    createInterface({ input: demo.stdout }).on('line', (l) => {
      const m = /http:\/\/\S+/.exec(l);
      if (m) resolve(m[0]);
    });
    demo.once('exit', (c) => reject(new Error(`the demo exited with ${c}`)));
  });
  console.log(`soak: ${bin} --provider ${provider}, ${seconds} s, ${concurrency} clients, at ${base}`);
  console.log('   t s   req/s   p50 ms   p99 ms  p999 ms   RSS MiB   fds   errors');

  const end = Date.now() + Number(seconds) * 1000;
  let lat = [];
  let errors = 0;
  let total = 0;
  const samples = [];
  // One client: a loop of sessions, each living a few dozen requests.
  async function client(n) {
    while (Date.now() < end) {
      let cookie;
      const steps = 20 + (n % 20);
      for (let i = 0; i < steps && Date.now() < end; i++) {
        let method = 'GET';
        let path = '/';
        if (i === 0) [method, path] = ['POST', `/set?key=n&value=${i}`];
        else if (i === 5) [method, path] = ['POST', `/login?user=u${n}`];
        else if (i % 3 === 0) [method, path] = ['POST', `/set?key=k${i % 7}&value=${i}`];
        else if (i === steps - 1) [method, path] = ['POST', '/logout'];
        else path = `/get?key=k${i % 7}`;
        try {
          const res = await request(base, method, path, cookie);
          total += 1;
          lat.push(res.ms);
          if (res.status >= 500) errors += 1;
          if (res.cookie) cookie = res.cookie;
          if (res.removed) cookie = undefined;
        } catch {
          errors += 1;
        }
      }
    }
  }
  const started = Date.now();
  const timer = setInterval(() => {
    const sorted = lat.sort((a, b) => a - b);
    const { rss, fds } = sample(demo.pid);
    const row = { t: Math.round((Date.now() - started) / 1000), rps: sorted.length / (INTERVAL_MS / 1000), p50: pct(sorted, 50), p99: pct(sorted, 99), p999: pct(sorted, 99.9), rss, fds, errors };
    samples.push(row);
    console.log(
      `${String(row.t).padStart(6)} ${row.rps.toFixed(0).padStart(7)} ${row.p50.toFixed(2).padStart(8)} ${row.p99.toFixed(2).padStart(8)} ${row.p999.toFixed(2).padStart(8)} ${(rss / 1024).toFixed(1).padStart(9)} ${String(fds).padStart(5)} ${String(errors).padStart(8)}`,
    );
    lat = [];
  }, INTERVAL_MS);
  await Promise.all(Array.from({ length: Number(concurrency) }, (_, n) => client(n)));
  clearInterval(timer);
  demo.kill();
  const q = Math.max(1, Math.floor(samples.length / 4));
  const avg = (rows, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  const second = samples.slice(q, 2 * q);
  const last = samples.slice(-q);
  const growth = (k) => (avg(last, k) / avg(second, k) - 1) * 100;
  console.log(
    `soak ${provider}: ${total} requests, ${errors} errors (5xx or failed); RSS ${(avg(second, 'rss') / 1024).toFixed(1)} -> ${(avg(last, 'rss') / 1024).toFixed(1)} MiB (${growth('rss').toFixed(1)}%), fds ${avg(second, 'fds').toFixed(1)} -> ${avg(last, 'fds').toFixed(1)} (second quarter -> last quarter)`,
  );
  process.exitCode = errors ? 1 : 0;
})();
