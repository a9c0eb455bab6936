import type * as Client from 'openid-client';
import { PERSON_ROLES, type OidcConfig, type PersonRole } from '../../config/oidc.ts';
import { AndonError, isAndonError } from '../../model/errors.ts';

/** openid-client (and jose under it), loaded when a gateway with `auth.oidc` first needs it. */
const openid = (): Promise<typeof Client> => import('openid-client');

/**
 * The gateway as an OpenID Connect client (openid-client): discovers the provider, starts a sign-in
 * (authorization code flow with PKCE, state and nonce) and finishes it at the callback (code exchange,
 * ID token checks, userinfo), mapping the person's claims to a role. No state of its own beyond the
 * provider's metadata: what a sign-in must remember between start and callback is returned to the caller.
 */

/** What a started sign-in must remember until its callback (never sent to the browser but `state`). */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
}

/** A person the provider vouched for, with the role their claims map to (undefined: none). */
export interface Person {
  subject: string;
  name: string;
  role: PersonRole | undefined;
  /** The values of the role claim (for the audit row of a person without a role). */
  groups: string[];
}

export interface OidcDeps {
  /** Whether the provider's metadata is known (andon_oidc_up). */
  onUp?: (up: boolean) => void;
  log?: { warn(fields: object, message: string): void; info(fields: object, message: string): void };
}

/** The value at a claim path: `groups`, or nested (`realm_access.roles`, Keycloak). */
const claimAt = (claims: Record<string, unknown>, path: string): unknown =>
  path in claims
    ? claims[path]
    : path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), claims);

const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The highest role whose `roleMap` values include one of the claim's values; undefined for none. */
export function roleOf(values: readonly string[], roleMap: OidcConfig['roleMap']): PersonRole | undefined {
  return [...PERSON_ROLES].reverse().find((r) => roleMap[r].some((v) => values.includes(v)));
}

/** The person in `claims` (ID token and userinfo together), as `cfg` maps them. */
export function personOf(claims: Record<string, unknown>, cfg: Pick<OidcConfig, 'roleClaim' | 'roleMap' | 'displayNameClaim'>): Person {
  const subject = String(claims.sub);
  const named = [cfg.displayNameClaim, 'preferred_username', 'email']
    .map((c) => claimAt(claims, c))
    .find((v): v is string => typeof v === 'string' && v.trim() !== '');
  const groups = strings(claimAt(claims, cfg.roleClaim));
  return { subject, name: (named ?? subject).trim().slice(0, 200), role: roleOf(groups, cfg.roleMap), groups: groups.slice(0, 20) };
}

/** A failure to reach the provider (network, timeout, not JSON) as opposed to a refusal by it. */
const unreachable = (err: unknown): boolean => {
  const e = err as { name?: string; message?: string; code?: string; cause?: unknown };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || (e.name === 'TypeError' && e.message === 'fetch failed')) return true;
  return e.cause !== undefined && e.cause !== err && unreachable(e.cause);
};

const causeText = (err: unknown) => {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  return [e.message, e.cause?.code ?? e.cause?.message].filter(Boolean).join(': ');
};

export function createOidc(cfg: OidcConfig, deps: OidcDeps = {}) {
  const issuer = new URL(cfg.issuer);
  const scope = [...new Set(['openid', ...cfg.scopes])].join(' ');
  let discovered: Promise<Client.Configuration> | undefined;

  /** The provider's metadata, discovered once; a failed discovery is tried again by the next caller. */
  function configuration(): Promise<Client.Configuration> {
    discovered ??= openid()
      .then((client) =>
        client.discovery(issuer, cfg.clientId, undefined, client.ClientSecretBasic(cfg.clientSecret), {
          // plain http only for a loopback issuer (the schema refuses it elsewhere)
          execute: issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
          timeout: Math.max(1, Math.ceil(cfg.timeout / 1000)),
        }),
      )
      .then(
        (c) => {
          deps.onUp?.(true);
          deps.log?.info({ component: 'oidc', issuer: cfg.issuer }, 'identity provider discovered: personal sign-in is available');
          return c;
        },
        (err: unknown) => {
          discovered = undefined;
          deps.onUp?.(false);
          const message = `the identity provider ${cfg.issuer} cannot be used: ${causeText(err)}`;
          deps.log?.warn(
            { component: 'oidc', code: 'ANDON_AUTH_OIDC_UNAVAILABLE', issuer: cfg.issuer, err },
            `${message}; bearer tokens keep working, each sign-in tries again`,
          );
          throw new AndonError('ANDON_AUTH_OIDC_UNAVAILABLE', message);
        },
      );
    return discovered;
  }

  return {
    /** Discovers the provider now (at start); never throws: a failure is logged and tried again at sign-in. */
    async discover(): Promise<boolean> {
      return configuration().then(
        () => true,
        () => false,
      );
    },

    /** Where to send the browser to sign in, and what the callback must find again. */
    async start(redirectUri: string): Promise<{ url: URL; pending: PendingSignIn }> {
      const config = await configuration();
      const client = await openid();
      const verifier = client.randomPKCECodeVerifier();
      const pending = { state: client.randomState(), nonce: client.randomNonce(), verifier, redirectUri };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      return { url, pending };
    },

    /**
     * Finishes a sign-in at the callback (`query`: the callback's query string): checks state, exchanges
     * the code (with the PKCE verifier), checks the ID token (nonce, issuer, audience, signature) and reads
     * userinfo. ANDON_AUTH_SIGN_IN_FAILED for a refusal, ANDON_AUTH_OIDC_UNAVAILABLE when the provider cannot be reached.
     */
    async finish(pending: PendingSignIn, query: string): Promise<Person> {
      const config = await configuration();
      const client = await openid();
      const current = new URL(pending.redirectUri);
      current.search = query;
      try {
        const tokens = await client.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims() as Record<string, unknown> | undefined;
        if (!idClaims) throw new AndonError('ANDON_AUTH_SIGN_IN_FAILED', 'the provider sent no ID token');
        let claims = idClaims;
        if (config.serverMetadata().userinfo_endpoint) {
          const info = await client.fetchUserInfo(config, tokens.access_token, String(idClaims.sub));
          claims = { ...info, ...idClaims };
        }
        return personOf(claims, cfg);
      } catch (err) {
        if (isAndonError(err)) throw err;
        if (unreachable(err)) throw new AndonError('ANDON_AUTH_OIDC_UNAVAILABLE', `the identity provider ${cfg.issuer} cannot be reached: ${causeText(err)}`);
        const e = err as { error?: string; error_description?: string };
        const why = e.error ? `${e.error}${e.error_description ? ` (${e.error_description})` : ''}` : causeText(err);
        throw new AndonError('ANDON_AUTH_SIGN_IN_FAILED', `the sign-in did not complete: ${why}`);
      }
    },
  };
}

export type Oidc = ReturnType<typeof createOidc>;
