// The behaviour suite against the Rust demo (axum layer) on memory, file, Redis, PostgreSQL
// and sealed cookies, over real HTTP on 127.0.0.1.
import { describe } from 'node:test';
import { behaviour } from './suite.js';
import { rustHost } from './hosts.js';

for (const provider of ['memory', 'file', 'redis', 'postgresql', 'cookie']) {
  const host = await rustHost(provider);
  if (host.skip) describe(`demo routes: ${host.name}`, { skip: host.skip }, () => {});
  else behaviour(host);
}
