// Seal and open operations per second: polysession-wasm against iron-session (npm), in the
// same process and run, rounds interleaved so that machine noise hits both alike.
// Usage: node bench/seal.js [rounds] [opsPerRound]   (bash scripts/wasm.sh bench)
import { sealData, unsealData } from 'iron-session';
import { KeyRing, Manager } from 'polysession-wasm';

const rounds = Number(process.argv[2] ?? 7);
const perRound = Number(process.argv[3] ?? 5000);
const password = 'a benchmark password of at least 32 characters';
const session = {
  user: { id: 42, name: 'Ann Example', roles: ['admin', 'editor'] },
  cart: [101, 202, 303],
  csrf: 'b1946ac92492d2347c6235b4d2611184',
  theme: 'dark',
};
const json = JSON.stringify(session);

const ring = new KeyRing([password]);
const sealedOurs = ring.seal(json, 'sid');
const sealedIron = await sealData(session, { password });
const manager = new Manager({ providerConfig: { keys: [password] }, cookieName: 'sid' });
const first = await manager.start(new Request('https://edge.example/'));
for (const [k, v] of Object.entries(session)) first.set(k, v);
const cookie = (await manager.commit(first, new Response(null))).headers.get('set-cookie').split(';')[0];
const request = new Request('https://edge.example/', { headers: { cookie } });

const cases = {
  'polysession-wasm seal': async () => ring.seal(json, 'sid'),
  'iron-session sealData': () => sealData(session, { password }),
  'polysession-wasm open': async () => JSON.parse(ring.open(sealedOurs, 'sid')),
  'iron-session unsealData': () => unsealData(sealedIron, { password }),
  'polysession-wasm request (open + set + seal)': async () => {
    const s = await manager.start(request);
    s.set('theme', 'light');
    await manager.commit(s, new Response(null));
  },
};

// Correctness first: both round-trip the same data.
if (JSON.stringify(await cases['iron-session unsealData']()) !== json) throw new Error('iron round trip');
if (JSON.stringify(await cases['polysession-wasm open']()) !== json) throw new Error('our round trip');

async function measure(fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < perRound; i++) await fn();
  return perRound / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const fn of Object.values(cases)) await measure(fn); // warm-up
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(cases)) results[name].push(await measure(fn));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ops = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));

console.log(`node ${process.version}, ${rounds} rounds x ${perRound} ops, median ops/s`);
console.log(`session: ${json.length} bytes of JSON; sealed: ours ${sealedOurs.length} chars, iron ${sealedIron.length} chars`);
for (const [name, value] of Object.entries(ops)) {
  console.log(`${name.padEnd(46)} ${Math.round(value).toString().padStart(9)} ops/s  ${(1e6 / value).toFixed(1).padStart(7)} us/op`);
}
console.log(`seal ratio (ours / iron): ${(ops['polysession-wasm seal'] / ops['iron-session sealData']).toFixed(2)}x`);
console.log(`open ratio (ours / iron): ${(ops['polysession-wasm open'] / ops['iron-session unsealData']).toFixed(2)}x`);
