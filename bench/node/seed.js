// Creates N sessions on an app (GET /seed) and prints their cookies, one per line.
'use strict';
const [base, n] = process.argv.slice(2);
(async () => {
  const out = [];
  for (let i = 0; i < Number(n); i++) {
    const res = await fetch(`${base}/seed`);
    const set = res.headers.get('set-cookie');
    if (set) out.push(set.split(';')[0]);
  }
  process.stdout.write(out.join('\n') + '\n');
})();
