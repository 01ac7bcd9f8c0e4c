'use strict';
// The binding behind one small interface, shared by the fetch helper and the Express
// middleware: options -> raw manager, and the Session object of the fetch API. The native
// addon is used when it loads; otherwise polysession-wasm (js/fallback.js).
const { call, polysessionError } = require('./errors.js');
const { normalizeStore } = require('./stores.js');
const { toJsonText } = require('./values.js');

let binding = null;
let whyNot = null;
try {
  if (process.env.POLYSESSION_FORCE_WASM === '1') throw new Error('POLYSESSION_FORCE_WASM=1');
  binding = require('../binding.js');
} catch (err) {
  whyNot = err.message.split('\n')[0];
}
const fallback = binding ? null : require('./fallback.js');
const HOST_KEYS = binding ? binding.hostKeys() : ['store', 'now'];

/** Wraps a raw manager so the `now` option's clock is read before every call into Rust. */
function withClock(raw, now) {
  const tick = () => raw.setNow(now());
  return new Proxy(raw, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args) => {
        tick();
        return value.apply(target, args);
      };
    },
  });
}

/**
 * A raw manager from options: an object of camelCase beego keys plus `store` and `now`, or
 * a beego JSON config string. The host keys are split off here; the rest is the core's.
 */
function createRaw(options) {
  if (options !== undefined && options !== null && typeof options !== 'string' && typeof options !== 'object') {
    throw polysessionError('BAD_CONFIG', 'options must be an object or a beego JSON config string');
  }
  if (fallback) return call(() => new fallback.FallbackManager(options, whyNot));
  if (typeof options === 'string') return call(() => new binding.RawManager(options, true, null, null));
  if (options === undefined || options === null) return call(() => new binding.RawManager(null, false, null, null));
  const rest = { ...options };
  const host = {};
  for (const key of HOST_KEYS) {
    host[key] = rest[key];
    delete rest[key];
  }
  let json;
  try {
    json = JSON.stringify(rest);
  } catch (err) {
    throw polysessionError('BAD_CONFIG', `options cannot be read as JSON: ${err.message}`);
  }
  const store = host.store === undefined || host.store === null ? null : normalizeStore(host.store);
  if (host.now !== undefined && typeof host.now !== 'function') {
    throw polysessionError('BAD_CONFIG', 'config key `now`: must be a function returning Unix milliseconds');
  }
  const raw = call(() => new binding.RawManager(json, false, store, host.now ? host.now() : null));
  return host.now ? withClock(raw, host.now) : raw;
}

/** One request's session in the fetch API: values are anything JSON holds. */
class Session {
  #raw;

  constructor(raw) {
    this.#raw = raw;
  }

  /** The raw session (for commit). */
  static raw(session) {
    return session.#raw;
  }

  get id() {
    return call(() => this.#raw.id);
  }

  get isNew() {
    return call(() => this.#raw.isNew);
  }

  get(key) {
    const text = call(() => this.#raw.get(key));
    return text === null ? undefined : JSON.parse(text);
  }

  set(key, value) {
    const text = toJsonText(key, value);
    if (text === undefined) throw polysessionError('BAD_INPUT', `session value \`${key}\` cannot be stored: it is undefined (use delete() to remove a key)`);
    call(() => this.#raw.set(key, text));
  }

  delete(key) {
    return call(() => this.#raw.delete(key));
  }

  flush() {
    call(() => this.#raw.flush());
  }

  keys() {
    return call(() => this.#raw.keys());
  }

  /** The lifetime of the cookie this response sends, in seconds (0: a browser-session
   * cookie), in place of the configured one; for this request only. */
  setCookieLifetime(secs) {
    call(() => this.#raw.setCookieLifetime(Number(secs)));
  }

  flash(level, message) {
    call(() => this.#raw.flash(String(level), String(message)));
  }

  takeFlash() {
    return JSON.parse(call(() => this.#raw.takeFlash()));
  }

  toJSON() {
    return JSON.parse(call(() => this.#raw.data()));
  }

  regenerate() {
    return call(() => this.#raw.regenerate());
  }

  destroy() {
    return call(() => this.#raw.destroy());
  }
}

/** `{ status, headers, body }` for an error code, from the binding in use. */
const errorResponseInit = (code) => (binding ?? fallback).errorResponseInit(code);

/** `native` (the napi-rs addon) or `wasm` (the fallback), and why the addon did not load. */
const backend = { name: binding ? 'native' : 'wasm', reason: whyNot };

module.exports = { backend, binding, createRaw, errorResponseInit, Session };
