import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OpenID provider for the tests (oidc-provider, with its development login form), on
 * 127.0.0.1 port 0. Any password signs a known login in; each account has a name and `groups`.
 * The client (`andon`) is registered once its redirect URL is known (`register`), so the gateway can
 * start first: requests that arrive before wait for it.
 */
export interface TestAccount {
  name: string;
  groups: string[];
}

export const CLIENT = { id: 'andon', secret: 'andon-client-secret-0123456789' } as const;

export async function startProvider(accounts: Record<string, TestAccount>) {
  let provider: Provider | undefined;
  let registered!: () => void;
  const ready = new Promise<void>((resolve) => (registered = resolve));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void ready.then(() => provider!.callback()(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    /** Registers the gateway's callback URL and starts answering. */
    register(redirectUri: string) {
      provider = new Provider(issuer, {
        clients: [
          { client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] },
        ],
        claims: { openid: ['sub'], profile: ['name', 'preferred_username'], groups: ['groups'] },
        findAccount: (_ctx: unknown, id: string) => {
          const a = accounts[id];
          return a ? { accountId: id, claims: () => ({ sub: id, name: a.name, preferred_username: id, groups: a.groups }) } : undefined;
        },
        features: { devInteractions: { enabled: true } },
        cookies: { keys: ['test-provider-cookie-key-0123456789'] },
        pkce: { required: () => true },
        // set, so that the provider does not print a notice for each default it uses
        ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
      });
      // its own log lines (dev keys, dev interactions) would only clutter the test output
      provider.on('server_error', (_ctx, err) => console.error('oidc-provider:', err));
      registered();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    closeIdle: () => server.closeAllConnections(),
  };
}

/** A cookie jar of one origin, enough for the provider's interaction cookies. */
const jar = () => {
  const cookies = new Map<string, string>();
  return {
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    take(res: Response) {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair!.indexOf('=');
        cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
      }
    },
  };
};

/**
 * Signs `login` in at the provider as a browser would, without one: follows the redirects from the
 * authorization URL, fills the login form and the consent form, and returns the URL the provider sends
 * the browser back to (the gateway's callback with `code` and `state`, or with `error`).
 */
export async function signInAtProvider(authorizationUrl: string, login: string, callbackPrefix: string): Promise<string> {
  const cookies = jar();
  let url = authorizationUrl;
  let body: URLSearchParams | undefined;
  for (let step = 0; step < 20; step++) {
    if (url.startsWith(callbackPrefix)) return url;
    const res = await fetch(url, { method: body ? 'POST' : 'GET', redirect: 'manual', headers: { cookie: cookies.header() }, ...(body ? { body } : {}) });
    cookies.take(res);
    body = undefined;
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`the provider answered ${res.status} without a form: ${html.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt });
  }
  throw new Error('the sign-in at the provider did not come back');
}
