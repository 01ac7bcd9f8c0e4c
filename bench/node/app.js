// One Express 5 app per session layer, for bench/node-http.sh:
//   node bench/node/app.js <variant> <port>
// variants: none, polysession-memory, polysession-redis, express-session-memory,
// express-session-redis. Routes: /read (reads the session), /write (increments a counter),
// /untouched (the session middleware runs, the route does not use the session), /seed
// (creates a session, for the cookie list).
'use strict';
const path = require('node:path');
const nodeDir = path.join(__dirname, '../../node');
// polysession is the package in node/; the others come from its node_modules.
const req = (m) => require(m === 'polysession' ? nodeDir : require.resolve(m, { paths: [nodeDir] }));
const express = req('express');

const [variant, port] = process.argv.slice(2);
const redisAddr = process.env.POLYSESSION_REDIS ?? '127.0.0.1:6379';
const tag = `bench${process.pid}`;

async function middleware() {
  switch (variant) {
    case 'none':
      return null;
    case 'polysession-memory':
      return req('polysession')({ maxLifetime: 3600 });
    case 'polysession-redis':
      return req('polysession')({ provider: 'redis', providerConfig: JSON.stringify({ save_path: redisAddr, prefix: `${tag}:` }) });
    case 'express-session-memory':
      return req('express-session')({ secret: 'bench', resave: false, saveUninitialized: false });
    case 'express-session-redis': {
      const client = req('redis').createClient({ url: `redis://${redisAddr}` });
      await client.connect();
      const { RedisStore } = req('connect-redis');
      return req('express-session')({ secret: 'bench', resave: false, saveUninitialized: false, store: new RedisStore({ client, prefix: `${tag}:` }) });
    }
    default:
      throw new Error(`unknown variant ${variant}`);
  }
}

(async () => {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const mw = await middleware();
  if (mw) app.use(mw);
  app.get('/seed', (q, res) => {
    if (q.session) q.session.n = 0;
    res.send('ok');
  });
  app.get('/read', (q, res) => res.send(String(q.session?.n ?? 0)));
  app.get('/write', (q, res) => {
    if (q.session) q.session.n = (q.session.n ?? 0) + 1;
    res.send('ok');
  });
  app.get('/untouched', (q, res) => res.send('ok'));
  app.listen(Number(port), '127.0.0.1', () => console.log(`ready ${variant}`));
})();
