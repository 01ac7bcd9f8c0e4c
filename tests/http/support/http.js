// Serves a fetch(request, env) handler over real HTTP on 127.0.0.1, and a raw HTTP client
// that sends header bytes exactly as given.
import http from 'node:http';
import { Readable } from 'node:stream';

export async function serve(handler, env) {
  const server = http.createServer(async (req, res) => {
    try {
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
      }
      const hasBody = !['GET', 'HEAD'].includes(req.method);
      const request = new Request(`http://${req.headers.host}${req.url}`, {
        method: req.method,
        headers,
        body: hasBody ? Readable.toWeb(req) : undefined,
        duplex: 'half',
      });
      const response = await handler.fetch(request, env);
      const out = [];
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') out.push(name, value);
      });
      for (const cookie of response.headers.getSetCookie()) out.push('set-cookie', cookie);
      res.writeHead(response.status, out);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (err) {
      // Only the adapter itself can land here: the handler catches its own errors.
      res.writeHead(599);
      res.end(`adapter: ${err?.stack ?? err}`);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// headers: an array of [name, value] pairs; a Buffer value is sent byte for byte. A body gets
// a Content-Length, as browsers send, unless `chunked` is set.
export function request(method, url, { headers = [], body, chunked = false } = {}) {
  return new Promise((resolve, reject) => {
    // Raw header arrays get no automatic Host header.
    const raw = ['host', new URL(url).host];
    for (const [name, value] of headers) raw.push(name, value);
    if (body !== undefined && !chunked) raw.push('content-length', String(Buffer.byteLength(body)));
    const req = http.request(url, { method, headers: raw, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode,
          headers: res.headers,
          text,
          json: () => JSON.parse(text),
          setCookies: res.headers['set-cookie'] ?? [],
        });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// The `name=value` part of the first Set-Cookie, or undefined.
export const sessionCookie = (res) => res.setCookies[0]?.split(';')[0];

// A client that keeps the session cookie like a browser does.
export class Browser {
  constructor(base) {
    this.base = base;
    this.cookie = undefined;
  }

  async send(method, path, { headers = [], body } = {}) {
    const all = this.cookie ? [['cookie', this.cookie], ...headers] : headers;
    const res = await request(method, this.base + path, { headers: all, body });
    for (const set of res.setCookies) {
      const pair = set.split(';')[0];
      this.cookie = /max-age=0/i.test(set) ? undefined : pair;
    }
    return res;
  }

  get(path, options) {
    return this.send('GET', path, options);
  }

  post(path, options) {
    return this.send('POST', path, options);
  }

  async value(key) {
    return (await this.get(`/get?key=${encodeURIComponent(key)}`)).json();
  }

  async counter() {
    const res = await this.get('/');
    return Number(/id="num">(\d+)</.exec(res.text)[1]);
  }
}

// A port nobody listens on right now.
export async function freePort() {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Resolves with the first stdout line of `child` matching `pattern` (its match array).
export async function ready(child, pattern) {
  const { createInterface } = await import('node:readline');
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const m = pattern.exec(line);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`${child.spawnfile} exited with ${code}`)));
  });
}

// Waits until `url` answers HTTP.
export async function waitForHttp(url, path = '/get?key=probe') {
  for (let i = 0; i < 150; i++) {
    try {
      return await request('GET', `${url}${path}`);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} never answered`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
