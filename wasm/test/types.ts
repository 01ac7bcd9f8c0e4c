// Type-checked (tsc --noEmit), not run: the published types accept the documented usage and
// reject misuse.
import { Manager, KeyRing, errorResponse, type Session, type PolysessionError, type KVNamespaceLike } from 'polysession-wasm';

declare const kv: KVNamespaceLike;
const manager = new Manager({ store: kv, maxLifetime: 3600, cookieSameSite: 'Strict', now: () => Date.now() });
const cookieManager = new Manager({ providerConfig: { keys: ['x'.repeat(32)] }, secure: true });
const fromBeego = new Manager('{"cookieName":"sid"}');

export async function handle(request: Request): Promise<Response> {
  const session: Session = await manager.start(request);
  const visits = session.get('visits');
  session.set('visits', typeof visits === 'number' ? visits + 1 : 1);
  session.flash('notice', 'hello');
  const flashes: Record<string, string[]> = session.takeFlash();
  const keys: string[] = session.keys();
  await session.regenerate();
  await session.destroy();
  const n: number = await cookieManager.count().catch((e: PolysessionError) => (e.code === 'UNSUPPORTED' ? 0 : -1));
  void [flashes, keys, n, fromBeego];
  try {
    return await manager.commit(session, new Response('ok'));
  } catch (err) {
    const failed: Response = errorResponse(err);
    return failed;
  }
}

const ring = new KeyRing(['x'.repeat(32)]);
const opened: string | undefined = ring.open(ring.seal('t', 'ctx'), 'ctx');
void opened;

// @ts-expect-error: options are checked
new Manager({ maxLifetime: 'soon' });
// @ts-expect-error: errorResponse takes the error
errorResponse();
// @ts-expect-error: commit needs a response
manager.commit(await manager.start(new Request('http://x/')));
