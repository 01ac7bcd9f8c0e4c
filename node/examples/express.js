// The demo routes every polysession host serves, on Express with polysession's middleware.
// Flags as the Rust demo's: --host, --port (0: any), --provider, --provider-config, and
// --session-config '<JSON of polysession options>'.
//   node examples/express.js --port 8080 --provider redis --provider-config 127.0.0.1:6379
'use strict';
const express = require(process.env.POLYSESSION_EXPRESS ?? 'express');
const session = require('polysession');
const { parseArgs } = require('node:util');

const { values: flags } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    provider: { type: 'string' },
    'provider-config': { type: 'string' },
    'session-config': { type: 'string' },
  },
});

// The demo routes' cookie name, as every host's demo uses it (express-session's is connect.sid).
const options = { name: 'beegosessionID', ...JSON.parse(flags['session-config'] ?? '{}') };
if (flags.provider) options.provider = flags.provider;
if (flags['provider-config']) options.providerConfig = flags['provider-config'];
const sessions = session(options);

const app = express();
// Parsed before the sessions so an id may come in a form field (EnableSidInURLQuery).
app.use(express.urlencoded({ extended: false }));
app.use(sessions);

const missing = (res, what) => res.status(400).type('text').send(`missing ${what}\n`);

app.get('/', (req, res) => {
  const num = Number.isInteger(req.session.asta) ? req.session.asta : 0;
  req.session.asta = num + 1;
  res.type('html').send(
    `<!doctype html>\n<html><head><title>polysession</title></head><body><h1>polysession demo</h1><p>asta: <span id="num">${num}</span></p></body></html>\n`,
  );
});

app.get('/get', (req, res) => {
  if (req.query.key === undefined) return missing(res, 'key');
  res.json(req.session[req.query.key] ?? null);
});

app.post('/set', (req, res) => {
  const { key, value } = req.query;
  if (key === undefined || value === undefined) return missing(res, 'key or value');
  try {
    req.session[key] = JSON.parse(value);
  } catch (err) {
    return res.status(400).type('text').send(`value is not JSON: ${err.message}\n`);
  }
  res.status(204).end();
});

app.post('/delete', (req, res) => {
  if (req.query.key === undefined) return missing(res, 'key');
  delete req.session[req.query.key];
  res.status(204).end();
});

app.post('/flush', (req, res) => {
  for (const key of Object.keys(req.session)) delete req.session[key];
  res.status(204).end();
});

// Login keeps the session's data under a new id, as the other hosts' demos do
// (express-session's regenerate() starts empty, so the data is carried over).
app.post('/login', (req, res, next) => {
  if (req.query.user === undefined) return missing(res, 'user');
  const data = { ...req.session };
  req.session.regenerate((err) => {
    if (err) return next(err);
    Object.assign(req.session, data, { user: req.query.user });
    res.status(204).end();
  });
});

app.post('/logout', (req, res, next) => {
  req.session.destroy((err) => (err ? next(err) : res.status(204).end()));
});

app.post('/flash', (req, res) => {
  const { level, msg } = req.query;
  if (level === undefined || msg === undefined) return missing(res, 'level or msg');
  req.session.flash(level, msg);
  res.status(204).end();
});

app.get('/flash', (req, res) => res.json(req.session.takeFlash()));

// Counting walks the store (SCAN in Redis, a directory walk for files): a client must not
// be able to make the server do that on every request, so one count serves for a second,
// and requests that arrive while it runs wait for the same one.
let stats = null;
function activeCount() {
  if (!stats || Date.now() - stats.at >= 1000) {
    const at = Date.now();
    const pending = sessions.count();
    stats = { at, pending };
    pending.catch(() => {
      if (stats && stats.pending === pending) stats = null;
    });
  }
  return stats.pending;
}

app.get('/stats', async (req, res, next) => {
  try {
    res.json({ active: await activeCount() });
  } catch (err) {
    if (err.code === 'UNSUPPORTED') return res.status(501).json({ active: null, error: err.code });
    next(err);
  }
});

// Session errors get the response every polysession host gives (503 for a store outage);
// other errors (a body above express.urlencoded's limit: 413) keep Express's own answer.
app.use((err, req, res, next) => {
  if (res.headersSent || err.name !== 'PolysessionError') return next(err);
  const { status, headers, body } = session.errorResponseInit(err);
  res.status(status).set(Object.fromEntries(headers)).send(body);
});

const server = app.listen(Number(flags.port), flags.host, () => {
  const { port } = server.address();
  console.log(`polysession express demo listening on http://${flags.host}:${port} (provider ${options.provider ?? 'memory'})`);
});
