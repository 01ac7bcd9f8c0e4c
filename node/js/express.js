'use strict';
// `session(options)`: Express 4/5 and Connect middleware giving `req.session` as
// express-session does. Only conversions live here: express-session's option names become
// core options, the session's own enumerable properties are diffed against what was read and
// only changed keys are written, and the session's headers go out before the response does.
const { createRaw, errorResponseInit } = require('./native.js');
const { call, codeOf, polysessionError } = require('./errors.js');
const { toJsonText } = require('./values.js');

// express-session options with no meaning here, and why (the README says more):
// secret: ids are 128 random bits checked against the store, so there is nothing to sign (the
// cookie provider seals with its own `providerConfig.keys`); resave / saveUninitialized: only
// changed keys are written and new sessions are stored once something is set;
// unset: deleting req.session's keys, or destroy(), removes data.
const IGNORED = new Set(['secret', 'resave', 'saveUninitialized', 'unset']);

const SAME_SITE = { true: 'Strict', false: 'Default', lax: 'Lax', strict: 'Strict', none: 'None' };

/** Core options from express-session's names (and any core option, passed through). */
function coreOptions(options = {}) {
  // express-session's default cookie name, unless a core `cookieName` is given.
  const out = { cookieName: 'connect.sid' };
  for (const [key, value] of Object.entries(options)) {
    if (IGNORED.has(key) || value === undefined) continue;
    switch (key) {
      case 'name':
        out.cookieName = value;
        break;
      case 'rolling':
        // The shortest touch interval: the cookie (with cookie.maxAge) is re-sent on use.
        if (value) out.touchInterval = 1;
        break;
      case 'proxy':
        out.trustForwardedProto = Boolean(value);
        break;
      case 'genid':
        process.emitWarning('polysession: `genid` is ignored; ids are 128 random bits from the core', 'PolysessionWarning');
        break;
      case 'cookie':
        Object.assign(out, cookieOptions(value ?? {}));
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}

function cookieOptions(cookie) {
  const out = {};
  if (typeof cookie.maxAge === 'number') {
    const secs = Math.max(1, Math.ceil(cookie.maxAge / 1000));
    out.cookieLifeTime = secs;
    out.maxLifetime = secs;
  }
  if (cookie.secure !== undefined) out.secure = cookie.secure === 'auto' || Boolean(cookie.secure);
  if (cookie.httpOnly !== undefined) out.disableHTTPOnly = !cookie.httpOnly;
  if (cookie.sameSite !== undefined) out.cookieSameSite = SAME_SITE[String(cookie.sameSite).toLowerCase()] ?? cookie.sameSite;
  if (cookie.domain !== undefined) out.domain = cookie.domain;
  if (cookie.path !== undefined) out.cookiePath = cookie.path;
  return out;
}

const done = (promise, cb) => {
  if (typeof cb !== 'function') return promise;
  promise.then(() => cb(), (err) => cb(err));
  return undefined;
};

const STATE = Symbol('polysession');
const COOKIE = Symbol('cookie');
const MAX_AGE_SET = Symbol('maxAge set');

/** A request's copy of the cookie view; an assignment to `maxAge` is remembered. */
function cookieCopy(view) {
  const cookie = { ...view };
  let maxAge = view.maxAge;
  Object.defineProperty(cookie, 'maxAge', {
    get: () => maxAge,
    set: (value) => {
      maxAge = value;
      cookie[MAX_AGE_SET] = true;
    },
    enumerable: true,
    configurable: true,
  });
  return cookie;
}

/**
 * `req.session`: the session's values as its own enumerable properties, express-session's
 * methods on the prototype (so they are not data, and `{ ...req.session }` copies values only).
 */
class RequestSession {
  get id() {
    return this[STATE].raw.id;
  }

  get cookie() {
    // A copy per request: code may change it (req.session.cookie.maxAge = ...).
    this[COOKIE] ??= cookieCopy(this[STATE].manager.cookie);
    return this[COOKIE];
  }

  set cookie(value) {
    this[COOKIE] = value;
    if (value && typeof value === 'object' && 'maxAge' in value) value[MAX_AGE_SET] = true;
  }

  regenerate(cb) {
    return done(this[STATE].regenerate(), cb);
  }

  destroy(cb) {
    return done(this[STATE].destroy(), cb);
  }

  save(cb) {
    // Changes are written when the response goes out; saving earlier only checks them.
    const state = this[STATE];
    return done(Promise.resolve().then(() => state.diff()), cb);
  }

  reload(cb) {
    return done(this[STATE].reload(), cb);
  }

  touch() {
    // The core extends the expiry by itself, at most once per touchInterval.
    return this;
  }

  flash(level, message) {
    this[STATE].raw.flash(String(level), String(message));
  }

  takeFlash() {
    return JSON.parse(this[STATE].raw.takeFlash());
  }
}



const isPromise = (v) => v !== null && typeof v === 'object' && typeof v.then === 'function';

/** The per-request link between req.session and the raw session. */
class State {
  constructor(manager, req, raw) {
    this.manager = manager;
    this.req = req;
    this.attach(raw);
  }

  attach(raw) {
    this.raw = raw;
    this.snapshot = new Map();
    const session = new RequestSession();
    session[STATE] = this;
    const data = JSON.parse(raw.data());
    for (const key in data) {
      const value = data[key];
      // A stored key named __proto__ stays data.
      if (key === '__proto__') Object.defineProperty(session, key, { value, writable: true, enumerable: true, configurable: true });
      else session[key] = value;
      this.snapshot.set(key, JSON.stringify(value));
    }
    this.session = session;
    this.req.session = session;
    this.req.sessionID = raw.id;
  }

  /** Applies the changed keys of req.session to the raw session. */
  diff() {
    const session = this.req.session === this.session ? this.session : null;
    if (!session) return;
    const parts = [];
    const seen = new Set();
    for (const key of Object.keys(session)) {
      const value = session[key];
      if (value === undefined) continue; // removed, below
      seen.add(key);
      let text;
      try {
        text = JSON.stringify(value);
      } catch {
        text = undefined;
      }
      if (text !== undefined && this.snapshot.get(key) === text) continue; // unchanged
      // Changed: checked in full (a TypeError naming the key for what JSON cannot hold).
      text = toJsonText(key, value);
      this.snapshot.set(key, text);
      parts.push(`${JSON.stringify(key)}:${text}`);
    }
    const removed = [];
    for (const key of this.snapshot.keys()) if (!seen.has(key)) removed.push(key);
    for (const key of removed) this.snapshot.delete(key);
    if (parts.length || removed.length) {
      call(() => this.raw.update(parts.length ? `{${parts.join(',')}}` : null, removed));
    }
  }

  /** `req.session.cookie.maxAge` changed in this request (express-session's "remember me"):
   * this response's cookie gets that lifetime (`null`: a browser-session cookie). */
  cookieLifetime() {
    const cookie = this.req.session === this.session ? this.session[COOKIE] : undefined;
    if (!cookie?.[MAX_AGE_SET]) return;
    const ms = cookie.maxAge;
    call(() => this.raw.setCookieLifetime(typeof ms === 'number' && ms > 0 ? ms / 1000 : 0));
  }

  async regenerate() {
    // express-session's regenerate gives a new, empty session; the old id dies.
    await call(() => this.raw.regenerate());
    call(() => this.raw.flush());
    this.attach(this.raw);
  }

  async destroy() {
    await call(() => this.raw.destroy());
    this.snapshot = new Map();
    this.destroyed = true;
    delete this.req.session;
  }

  async reload() {
    const name = this.manager.raw.cookieName;
    const raw = await call(() => this.manager.raw.start(`${name}=${this.raw.id}`, undefined, undefined, undefined, undefined, false));
    if (raw.isNew) throw polysessionError('BAD_INPUT', 'the session to reload no longer exists');
    this.attach(raw);
  }

  /** Commits the session and sets its headers on `res`: at once, or a promise when the
   * store does I/O. */
  commit(res) {
    if (!this.destroyed) {
      this.diff();
      this.cookieLifetime();
    }
    const header = (name) => {
      const v = res.getHeader(name);
      return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : String(v);
    };
    const out = call(() => this.manager.raw.commit(this.raw, header('vary'), header('cache-control')));
    return isPromise(out) ? out.then((o) => this.apply(res, o)) : this.apply(res, out);
  }

  apply(res, out) {
    if (res.headersSent) return;
    if (out.setCookie) {
      const prev = res.getHeader('set-cookie');
      res.setHeader('Set-Cookie', prev === undefined ? [out.setCookie] : [].concat(prev, out.setCookie));
    }
    if (out.sidHeader) res.setHeader(out.sidHeader[0], out.sidHeader[1]);
    if (out.vary) res.setHeader('Vary', out.vary);
    if (out.cacheControl) res.setHeader('Cache-Control', out.cacheControl);
  }
}

/** `err` with the kit's HTTP status and headers for Express's error handlers. */
function withStatus(err) {
  const init = errorResponseInit(codeOf(err));
  err.status = init.status;
  err.statusCode = init.status;
  err.headers = Object.fromEntries(init.headers.filter(([n]) => n !== 'content-type'));
  err.expose = init.status < 500 || init.status === 503;
  return err;
}

/**
 * Holds `res.writeHead`, `res.write` and `res.end` until `commit` has set the session's
 * headers; a failed commit goes to `next(err)` with the kit's status (503 for an outage).
 */
function holdResponse(res, commit, next) {
  const original = { writeHead: res.writeHead, write: res.write, end: res.end };
  let head = null;
  let pending = null;
  const restore = () => Object.assign(res, original);
  const committed = () => {
    restore();
    if (head && !res.headersSent) res.writeHead(...head);
  };
  const failed = (err) => {
    restore();
    next(withStatus(err));
    return 'failed';
  };
  const flush = (method, args) => {
    if (!pending) {
      let now;
      try {
        now = commit();
      } catch (err) {
        failed(err);
        return method === 'write' ? true : res;
      }
      if (!isPromise(now)) {
        // Committed without I/O (memory, sealed cookies): the response goes on at once.
        committed();
        return res[method](...args);
      }
      pending = now.then(committed, failed);
    }
    pending.then((outcome) => {
      if (outcome !== 'failed') res[method](...args);
    });
    return method === 'write' ? true : res;
  };
  res.writeHead = function writeHead(...args) {
    head = args;
    return res;
  };
  res.write = (...args) => flush('write', args);
  res.end = (...args) => flush('end', args);
}

/** The cookie options express-session code may read on req.session.cookie. */
function cookieView(options) {
  const c = options.cookie ?? {};
  return {
    path: c.path ?? '/',
    httpOnly: c.httpOnly ?? true,
    secure: c.secure ?? false,
    sameSite: c.sameSite ?? 'lax',
    domain: c.domain,
    originalMaxAge: c.maxAge ?? null,
    maxAge: c.maxAge ?? null,
  };
}

/**
 * The middleware. `options` takes express-session's names (`name`, `cookie.maxAge`,
 * `cookie.secure`, `cookie.httpOnly`, `cookie.sameSite`, `cookie.domain`, `cookie.path`,
 * `rolling`, `proxy`, `store`) and every polysession option (`provider`, `providerConfig`,
 * `maxLifetime`, ...).
 */
function session(options = {}) {
  const manager = { raw: createRaw(coreOptions(options)), cookie: cookieView(options), ready: null, initialized: false };
  const name = manager.raw.cookieName;
  const header = manager.raw.headerName;
  const middleware = function polysession(req, res, next) {
    if (req.session) return next();
    // beego's SessionInit, once; retried on the next request after a failure.
    manager.ready ??= call(() => manager.raw.init()).catch((err) => {
      manager.ready = null;
      throw err;
    });
    const cookie = req.headers.cookie;
    let form;
    if (req.body && typeof req.body === 'object' && manager.raw.readsForm(cookie, req.method, req.headers['content-type'], req.headers['content-length'])) {
      form = new URLSearchParams(req.body).toString();
    }
    const https = Boolean(req.socket?.encrypted);
    const begin = (raw) => {
      const state = new State(manager, req, raw);
      holdResponse(res, () => state.commit(res), next);
      next();
    };
    const start = () => call(() => manager.raw.start(cookie, req.originalUrl ?? req.url, header ? req.headers[header.toLowerCase()] : undefined, req.headers['x-forwarded-proto'], form, https));
    if (!manager.initialized) {
      manager.ready.then(() => {
        manager.initialized = true;
        return start();
      }).then(begin, (err) => next(withStatus(err)));
      return;
    }
    let raw;
    try {
      raw = start();
    } catch (err) {
      return next(withStatus(err));
    }
    // Started without I/O (memory, sealed cookies): no promise, no extra turn of the loop.
    if (isPromise(raw)) raw.then(begin, (err) => next(withStatus(err)));
    else begin(raw);
  };
  middleware.cookieName = name;
  /** How many sessions the store holds (beego's GetActiveSession); UNSUPPORTED for cookie. */
  middleware.count = () => call(() => manager.raw.count());
  /** One GC pass (stores without native expiry); resolves to how many were removed. */
  middleware.gc = () => call(() => manager.raw.gc());
  return middleware;
}

module.exports = { session, coreOptions };
