// The cookie provider: key rotation, tampering, size limits, and the KeyRing export.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Manager, KeyRing } from 'polysession-wasm';

const OLD = 'the old secret, at least thirty-two bytes';
const NEW = 'the new secret, also at least 32 bytes long';

const req = (cookie) => new Request('https://edge.example/', cookie ? { headers: { cookie } } : {});
const manager = (keys, extra = {}) => new Manager({ providerConfig: { keys }, cookieName: 'sid', ...extra });

async function sealWith(m, values, cookie) {
  const session = await m.start(req(cookie));
  for (const [k, v] of Object.entries(values)) session.set(k, v);
  const res = await m.commit(session, new Response('ok'));
  return res.headers.get('set-cookie')?.split(';')[0];
}

async function read(m, cookie, key) {
  const session = await m.start(req(cookie));
  return session.isNew ? undefined : session.get(key);
}

describe('cookie provider', () => {
  it('rotates keys: the newest seals, every key opens, a dropped key stops opening', async () => {
    const before = manager([OLD]);
    const during = manager([NEW, OLD]);
    const after = manager([NEW]);
    const oldCookie = await sealWith(before, { user: 'ann' });
    assert.equal(await read(during, oldCookie, 'user'), 'ann', 'old cookies open during rotation');
    const newCookie = await sealWith(during, { cart: 2 }, oldCookie);
    assert.equal(await read(after, newCookie, 'user'), 'ann', 'rewritten under the new key');
    assert.equal(await read(after, newCookie, 'cart'), 2);
    assert.equal(await read(before, newCookie, 'user'), undefined, 'the old ring cannot open it');
    assert.equal(await read(after, oldCookie, 'user'), undefined, 'a dropped key opens nothing');
    // Same id across the rotation: it is the same session.
    const a = await during.start(req(oldCookie));
    const b = await after.start(req(newCookie));
    assert.equal(a.id, b.id);
  });

  it('gives a fresh session for tampered, truncated, re-named or foreign cookies', async () => {
    const m = manager([NEW]);
    const cookie = await sealWith(m, { user: 'ann' });
    const value = cookie.slice('sid='.length);
    const flip = (s, i) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (const bad of [
      `sid=${flip(value, 10)}`,
      `sid=${flip(value, value.length - 2)}`,
      `sid=${value.slice(0, -4)}`,
      `sid=${value}AAAA`,
      `sid=`,
      `sid=${'A'.repeat(5000)}`,
      `other=${value}`,
    ]) {
      assert.equal(await read(m, bad, 'user'), undefined, bad.slice(0, 30));
    }
    // Sealed for another cookie name (the name is bound into the seal).
    const other = manager([NEW], { cookieName: 'other' });
    assert.equal(await read(other, `other=${value}`, 'user'), undefined);
  });

  it('refuses sessions larger than a cookie can hold, with TOO_LARGE', async () => {
    const m = manager([NEW]);
    const session = await m.start(req());
    session.set('big', 'x'.repeat(5000));
    await assert.rejects(m.commit(session, new Response('ok')), { name: 'PolysessionError', code: 'TOO_LARGE' });
    // The session stays open after a failed commit: the app can shrink it and retry.
    session.set('big', 'small');
    const res = await m.commit(session, new Response('ok'));
    assert.match(res.headers.get('set-cookie'), /^sid=/);
  });

  it('gives one sealed session a cookie lifetime of its own for the response', async () => {
    const m = manager([NEW]);
    const session = await m.start(req());
    assert.throws(() => session.setCookieLifetime(-1), { name: 'PolysessionError', code: 'BAD_INPUT' });
    assert.throws(() => session.setCookieLifetime(Number.NaN), { code: 'BAD_INPUT' });
    session.set('user', 'ann');
    session.setCookieLifetime(86400);
    const remembered = await m.commit(session, new Response('ok'));
    assert.match(remembered.headers.get('set-cookie'), /; Max-Age=86400; /);
    // Not stored: the next response's cookie is the config's again (a browser-session one).
    const next = await m.start(req(remembered.headers.get('set-cookie').split(';')[0]));
    next.set('n', 1);
    assert.doesNotMatch((await m.commit(next, new Response('ok'))).headers.get('set-cookie'), /Max-Age/);
  });

  it('needs keys of 32 bytes or more', () => {
    assert.throws(() => manager([]), { code: 'BAD_CONFIG', message: /providerConfig/ });
    assert.throws(() => manager(['short']), { code: 'BAD_CONFIG', message: /32/ });
    assert.throws(() => new Manager({}), { code: 'BAD_CONFIG' });
    assert.throws(() => new KeyRing(['short']), { code: 'BAD_CONFIG' });
  });

  it('seals and opens tokens with KeyRing', () => {
    const ring = new KeyRing([NEW, OLD]);
    const token = ring.seal('{"reset":"ann"}', 'password-reset');
    assert.equal(ring.open(token, 'password-reset'), '{"reset":"ann"}');
    assert.equal(ring.open(token, 'another-purpose'), undefined);
    assert.equal(new KeyRing([OLD]).open(token, 'password-reset'), undefined);
    assert.equal(new KeyRing([OLD, NEW]).open(token, 'password-reset'), '{"reset":"ann"}');
    assert.equal(ring.open('not a token', 'password-reset'), undefined);
  });
});
