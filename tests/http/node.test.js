// The behaviour suite against the Express example of the Node package (native binding) on
// memory, Redis, files and sealed cookies, under Express 5 and Express 4.
import { describe } from 'node:test';
import { behaviour } from './suite.js';
import { expressHost } from './hosts.js';

const hosts = [
  ...(await Promise.all(['memory', 'redis', 'file', 'cookie'].map((p) => expressHost(p, 'express')))),
  await expressHost('memory', 'express4'),
];
for (const host of hosts) {
  if (host.skip) describe(`demo routes: ${host.name}`, { skip: host.skip }, () => {});
  else behaviour(host);
}
