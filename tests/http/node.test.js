// The behaviour suite against the Express example of the Node package: the native addon on
// memory, Redis, files and sealed cookies under Express 5 (memory under Express 4 too), and
// the polysession-wasm fallback on memory and sealed cookies.
import { describe } from 'node:test';
import { behaviour } from './suite.js';
import { expressHost } from './hosts.js';

const hosts = [
  ...(await Promise.all(['memory', 'redis', 'file', 'cookie'].map((p) => expressHost(p, 'express')))),
  await expressHost('memory', 'express4'),
  ...(await Promise.all(['memory', 'cookie'].map((p) => expressHost(p, 'express', { wasm: true })))),
];
for (const host of hosts) {
  if (host.skip) describe(`demo routes: ${host.name}`, { skip: host.skip }, () => {});
  else behaviour(host);
}
