// The hostile-traffic script (hostile.js) against every host: the Rust demo on files (with
// canaries around the save path), memory and sealed cookies; the Worker example on its KV and
// on sealed cookies in Node, under Deno and in workerd; the Express, Flask and Starlette
// examples on files. Prints what it tried.
import { describe, it, after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostile } from './hostile.js';
import { rustHost, expressHost, pythonHost, workerHost, denoHost, workerdHost } from './hosts.js';

const hosts = [
  [await rustHost('file'), true],
  [await rustHost('memory'), false],
  [await rustHost('cookie'), false],
  [await workerHost('kv'), false],
  [await workerHost('cookie'), false],
  [await denoHost('kv'), false],
  [await denoHost('cookie'), false],
  [await workerdHost('memory'), false],
  [await workerdHost('cookie'), false],
  [await expressHost('file'), true],
  [await pythonHost('file', 'flask'), true],
  [await pythonHost('file', 'starlette'), true],
];
const dirs = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let total = 0;
describe('hostile traffic: a fresh session or a 4xx, never a 5xx', () => {
  after(() => console.log(`\nhostile traffic: ${total} attempts over ${hosts.length} hosts, no 5xx, canaries untouched`));
  for (const [host, files] of hosts) {
    it(host.name, { skip: host.skip, timeout: 120_000 }, async () => {
      let saveDir;
      if (files) {
        const dir = mkdtempSync(join(tmpdir(), 'polysession-hostile-'));
        dirs.push(dir);
        saveDir = join(dir, 'sessions');
      }
      const counts = await hostile(host, { saveDir });
      total += counts.print(host.name);
    });
  }
});
