// Type-checked (tsc --noEmit), not run: the published types accept the documented usage and
// reject misuse.
import express from 'express';
import session, { Manager, errorResponse, type PolysessionError, type KVStoreLike } from 'polysession';

const app = express();
const sessions = session({ name: 'sid', cookie: { maxAge: 60_000, sameSite: 'strict' }, secret: 'unused', resave: false });
app.use(sessions);
app.get('/', (req, res) => {
  const views = typeof req.session.views === 'number' ? req.session.views : 0;
  req.session.views = views + 1;
  req.session.flash('notice', 'hi');
  const flashes: Record<string, string[]> = req.session.takeFlash();
  req.session.regenerate((err) => {
    if (err) return res.status(500).end();
    res.json({ views, id: req.sessionID, flashes });
  });
});
app.get('/stats', async (_req, res) => {
  const n: number = await sessions.count().catch((e: PolysessionError) => (e.code === 'UNSUPPORTED' ? 0 : -1));
  res.json({ n });
});

declare const kv: KVStoreLike;
const manager = new Manager({ store: kv, maxLifetime: 3600 });
export async function handle(request: Request): Promise<Response> {
  try {
    const s = await manager.start(request);
    s.set('seen', true);
    return await manager.commit(s, new Response('ok'));
  } catch (err) {
    return errorResponse(err);
  }
}

// @ts-expect-error: options are checked
session({ cookie: { maxAge: 'soon' } });
// @ts-expect-error: commit needs a response
manager.commit(await manager.start(new Request('http://x/')));
// @ts-expect-error: maxLifetime is a number
new Manager({ maxLifetime: '1h' });
