// The behaviour suite against the Python package's examples: Flask under werkzeug's threaded
// WSGI server and Starlette under uvicorn, on memory, Redis, files and sealed cookies.
import { describe } from 'node:test';
import { behaviour } from './suite.js';
import { pythonHost } from './hosts.js';

const hosts = [];
for (const framework of ['flask', 'starlette']) {
  for (const provider of ['memory', 'redis', 'file', 'cookie']) hosts.push(await pythonHost(provider, framework));
}
for (const host of hosts) {
  if (host.skip) describe(`demo routes: ${host.name}`, { skip: host.skip }, () => {});
  else behaviour(host);
}
