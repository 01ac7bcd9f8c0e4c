// A Cloudflare-Workers-style app (`export default { fetch(request, env) }`) serving the demo
// routes every polysession host serves. Sessions go to the KV namespace bound as
// `env.SESSIONS` when there is one, else into a sealed cookie under `env.SESSION_KEYS`
// (comma-separated secrets of 32+ bytes, newest first), or in the provider named by
// `env.SESSION_PROVIDER` (`memory`: one isolate, for development). `env.SESSION_OPTIONS` adds
// options (an object or a JSON string).
import { Manager, errorResponse } from 'polysession-wasm';

// One manager per environment: writers of one session in this isolate queue on its locks.
const managers = new WeakMap();

function managerFor(env) {
  let manager = managers.get(env);
  if (!manager) {
    const extra = env.SESSION_OPTIONS;
    const options = { ...(typeof extra === 'string' && extra ? JSON.parse(extra) : extra) };
    if (env.SESSION_PROVIDER) options.provider = env.SESSION_PROVIDER;
    if (env.SESSIONS) options.store = env.SESSIONS;
    else if (env.SESSION_KEYS) options.providerConfig = { keys: env.SESSION_KEYS.split(',') };
    manager = new Manager(options);
    managers.set(env, manager);
  }
  return manager;
}

const json = (value, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
const empty = (status = 204) => new Response(null, { status });
const text = (body, status) => new Response(body, { status, headers: { 'content-type': 'text/plain' } });

async function route(request, session, manager) {
  const url = new URL(request.url);
  const q = (name) => url.searchParams.get(name);
  const need = (...names) => names.every((n) => q(n) !== null);
  const post = request.method === 'POST';
  switch (`${request.method} ${url.pathname}`) {
    case 'GET /': {
      const n = session.get('asta');
      const num = Number.isInteger(n) ? n : 0;
      session.set('asta', num + 1);
      return new Response(
        `<!doctype html>\n<html><head><title>polysession</title></head><body><h1>polysession demo</h1><p>asta: <span id="num">${num}</span></p></body></html>\n`,
        { headers: { 'content-type': 'text/html; charset=utf-8' } },
      );
    }
    case 'GET /get':
      if (!need('key')) return text('missing key\n', 400);
      return json(session.get(q('key')) ?? null);
    case 'POST /set': {
      if (!need('key', 'value')) return text('missing key or value\n', 400);
      let value;
      try {
        value = JSON.parse(q('value'));
      } catch (e) {
        return text(`value is not JSON: ${e.message}\n`, 400);
      }
      session.set(q('key'), value);
      return empty();
    }
    case 'POST /delete':
      if (!need('key')) return text('missing key\n', 400);
      session.delete(q('key'));
      return empty();
    case 'POST /flush':
      session.flush();
      return empty();
    case 'POST /login':
      if (!need('user')) return text('missing user\n', 400);
      await session.regenerate();
      session.set('user', q('user'));
      return empty();
    case 'POST /logout':
      await session.destroy();
      return empty();
    case 'POST /flash':
      if (!need('level', 'msg')) return text('missing level or msg\n', 400);
      session.flash(q('level'), q('msg'));
      return empty();
    case 'GET /flash':
      return json(session.takeFlash());
    case 'GET /stats':
      try {
        return json({ active: await activeCount(manager) });
      } catch (e) {
        if (e.code === 'UNSUPPORTED') return json({ active: null, error: e.code }, 501);
        throw e;
      }
    default:
      return text('not found\n', post || request.method === 'GET' ? 404 : 405);
  }
}

// Counting walks the store: a client must not be able to make the Worker do that on every
// request, so one count serves for a second, and concurrent requests share it.
let stats = null;
function activeCount(manager) {
  if (!stats || stats.manager !== manager || Date.now() - stats.at >= 1000) {
    const pending = manager.count();
    const entry = { manager, at: Date.now(), pending };
    stats = entry;
    pending.catch(() => {
      if (stats === entry) stats = null;
    });
  }
  return stats.pending;
}

export default {
  async fetch(request, env) {
    try {
      const manager = managerFor(env);
      const session = await manager.start(request);
      const response = await route(request, session, manager);
      return await manager.commit(session, response);
    } catch (err) {
      return errorResponse(err);
    }
  },
};
