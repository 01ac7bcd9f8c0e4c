// Runs the Worker example under Deno (its `deno` entry, js/web.js, loads the wasm with
// top-level await) on 127.0.0.1, sessions in a Map-backed KV or sealed cookies. Prints
// "listening <port>".
// deno run --allow-net=127.0.0.1 --allow-read=. --import-map=test/deno/import_map.json \
//   test/deno/serve.js [kv|cookie] ['{"maxLifetime": 60}']
import worker from '../../examples/worker.js';
import { MapKV } from '../support/kv.js';

const provider = Deno.args[0] ?? 'kv';
const options = JSON.parse(Deno.args[1] ?? '{}');
const env =
  provider === 'kv'
    ? { SESSIONS: new MapKV(), SESSION_OPTIONS: options }
    : { SESSION_KEYS: 'a deno test secret of at least 32 bytes', SESSION_OPTIONS: options };

Deno.serve(
  { hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) },
  (request) => worker.fetch(request, env),
);
