// The public API of polysession-wasm over the raw bindings: fetch Request in, Response out.
// Only conversions live here; every session rule is in the Rust core.
import { RawManager, Session, KeyRing, errorResponseInit } from '../pkg/polysession_wasm.js';

export { Session, KeyRing };

// Reads a body the host kit's form policy asked for (urlencoded, with a Content-Length of at
// most 64 KiB); the raw start ignores anything longer.
async function readForm(request) {
  try {
    return await request.clone().text();
  } catch {
    return undefined;
  }
}

/**
 * The response for an error thrown by polysession (or anything else, as a 500), the same
 * status, headers and body every polysession host gives: 400 `BAD_INPUT`, 413 `TOO_LARGE`,
 * 503 `STORE_UNAVAILABLE` with `Retry-After`, else 500.
 */
export function errorResponse(err) {
  const code = err?.name === 'PolysessionError' ? err.code : undefined;
  const { status, headers, body } = errorResponseInit(code);
  return new Response(body, { status, headers });
}

/**
 * A session manager. `options` is an object of camelCase beego keys (`cookieName`,
 * `maxLifetime`, `cookieSameSite`, ...) plus `provider` (`cookie` by default, `memory`, or
 * `kv`), `providerConfig`, `store` (a KV namespace, which selects `kv`) and `now` (a clock
 * returning Unix milliseconds), or a beego JSON config string. Errors are `PolysessionError`s
 * with a stable `code` (`BAD_CONFIG`, `UNKNOWN_PROVIDER`, `STORE_UNAVAILABLE`, ...).
 */
export class Manager {
  #raw;
  #header;

  constructor(options) {
    this.#raw = new RawManager(options);
    // Read once: it is fixed for the manager's life.
    this.#header = this.#raw.headerName;
  }

  /** The provider in use. */
  get provider() {
    return this.#raw.provider;
  }

  /** Starts the session of a fetch `Request`. Rejects only when the store fails. */
  async start(request) {
    const headers = request.headers;
    const get = (name) => headers.get(name) ?? undefined;
    const cookie = get('cookie');
    const form = this.#raw.readsForm(cookie, request.method, get('content-type'), get('content-length'))
      ? await readForm(request)
      : undefined;
    const header = this.#header;
    return this.#raw.start(cookie, request.url, header && get(header), get('x-forwarded-proto'), form);
  }

  /**
   * Writes the session and returns `response` with its `Set-Cookie`, `Vary: Cookie` and, when
   * an id is sent, `no-store` added to its `Cache-Control`. The body is passed through, not read.
   */
  async commit(session, response) {
    const get = (name) => response.headers.get(name) ?? undefined;
    const out = await this.#raw.commit(session, get('vary'), get('cache-control'));
    const add = (headers) => {
      if (out.setCookie) headers.append('set-cookie', out.setCookie);
      if (out.sidHeader) headers.set(out.sidHeader[0], out.sidHeader[1]);
      if (out.vary) headers.set('vary', out.vary);
      if (out.cacheControl) headers.set('cache-control', out.cacheControl);
    };
    if (response.status < 200 || response.status > 599) {
      // 101 (WebSocket upgrades) cannot be rebuilt: add the headers in place.
      add(response.headers);
      return response;
    }
    const headers = new Headers(response.headers);
    add(headers);
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }

  /** How many sessions the store holds (`UNSUPPORTED` for `cookie`, or kv without `list`). */
  count() {
    return this.#raw.count();
  }

  /** One GC pass; only the memory provider needs it. */
  gc() {
    return this.#raw.gc();
  }
}
