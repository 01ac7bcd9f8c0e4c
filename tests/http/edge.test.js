// The behaviour suite against the Worker example of polysession-wasm: in Node (kv, memory,
// cookie, with a clock the tests move), under Deno (kv, cookie) and in workerd (memory,
// cookie), over real HTTP on 127.0.0.1.
import { describe } from 'node:test';
import { behaviour } from './suite.js';
import { workerHost, denoHost, workerdHost } from './hosts.js';

const hosts = [
  ...(await Promise.all(['kv', 'memory', 'cookie'].map(workerHost))),
  ...(await Promise.all(['kv', 'cookie'].map(denoHost))),
  ...(await Promise.all(['memory', 'cookie'].map(workerdHost))),
];
for (const host of hosts) {
  if (host.skip) describe(`demo routes: ${host.name}`, { skip: host.skip }, () => {});
  else behaviour(host);
}
