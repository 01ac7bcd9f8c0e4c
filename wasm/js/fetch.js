// The fetch-API helper (Request in, Response out) over a raw binding, shared by
// polysession-wasm and the Node package `polysession` (which imports it as
// `polysession-wasm/fetch`): one source for both. Only conversions live here; every session
// rule is in the Rust core and the host kit. No wasm is loaded by this file.

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
 * Builds `{ Manager, errorResponse }` over a binding:
 * - `create(options)` makes the raw manager (`readsForm`, `start`, `commit`, `count`, `gc`,
 *   `provider`, `headerName`);
 * - `errorResponseInit(code)` is the binding's `{ status, headers, body }` for an error code;
 * - `codeOf(err)` the polysession code of an error, if it is one;
 * - `toSession(raw)` / `toRaw(session)` wrap and unwrap the raw session (identity by default);
 * - `call(fn)` runs a raw call and maps its errors (identity by default).
 */
export function fetchApi({ create, errorResponseInit, codeOf, toSession = (s) => s, toRaw = (s) => s, call = (f) => f() }) {
  /**
   * The response for an error thrown by polysession (or anything else, as a 500), the same
   * status, headers and body every polysession host gives: 400 `BAD_INPUT`, 413 `TOO_LARGE`,
   * 503 `STORE_UNAVAILABLE` with `Retry-After`, else 500.
   */
  function errorResponse(err) {
    const { status, headers, body } = errorResponseInit(codeOf(err));
    return new Response(body, { status, headers });
  }

  /** A session manager over fetch `Request`/`Response` objects. */
  class Manager {
    #raw;
    #header;

    constructor(options) {
      this.#raw = call(() => create(options));
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
      const raw = this.#raw;
      const form = raw.readsForm(cookie, request.method, get('content-type'), get('content-length'))
        ? await readForm(request)
        : undefined;
      const header = this.#header;
      const started = call(() => raw.start(cookie, request.url, header && get(header), get('x-forwarded-proto'), form));
      return toSession(await call(() => started));
    }

    /**
     * Writes the session and returns `response` with its `Set-Cookie`, `Cookie` added to
     * `Vary` and, when an id is sent, `no-store` added to its `Cache-Control`. The body is
     * passed through, not read.
     */
    async commit(session, response) {
      const get = (name) => response.headers.get(name) ?? undefined;
      const out = await call(() => this.#raw.commit(toRaw(session), get('vary'), get('cache-control')));
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
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }

    /** How many sessions the store holds (`UNSUPPORTED` for `cookie`). */
    count() {
      return call(() => this.#raw.count());
    }

    /** One GC pass; resolves to how many sessions were removed. */
    gc() {
      return call(() => this.#raw.gc());
    }
  }

  return { Manager, errorResponse };
}
