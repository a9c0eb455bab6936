import { timingSafeEqual } from 'node:crypto';
import type { AndonConfig } from '../../config/schema.ts';
import { AndonError } from '../../model/errors.ts';

export type Role = 'read' | 'operator' | 'ingest' | 'admin';

/** Who may call a route: nobody needs a token (`public`), or a bearer token of a role (admin may do everything). */
export type Access = Role | 'public';

/**
 * Who made a request: the name and role of its token (never the token itself), or a person signed in
 * with OpenID Connect: `name` is their subject, `displayName` what to show, `session` their sign-in.
 */
export interface Who {
  name: string;
  role: Role;
  displayName?: string;
  session?: { csrf: string; expiresAt: number };
}

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The token of an `Authorization: Bearer <token>` header; undefined without one. */
export const bearerToken = (header: string | undefined) => (header?.startsWith('Bearer ') ? header.slice(7).trim() || undefined : undefined);

/**
 * Checks a caller against config: `who` is the token's holder (from the
 * bearer header or a stream key), null for a request without credentials.
 * Throws ANDON_AUTH_REQUIRED / ANDON_AUTH_FORBIDDEN when it may not do `need`
 * (admin may do everything; read is any token, or none with anonymousRead).
 */
export function authorizer(auth: AndonConfig['gateway']['auth']) {
  return {
    /** The holder of `token`; ANDON_AUTH_REQUIRED for a token that is not in config. */
    identify(token: string): Who {
      const who = auth.tokens.find((t) => same(t.token, token));
      if (!who) throw new AndonError('ANDON_AUTH_REQUIRED', 'unknown token');
      return { name: who.name, role: who.role };
    },
    allow(who: Who | null, need: Role): void {
      if (!who) {
        if (need === 'read' && auth.anonymousRead) return;
        const how = auth.oidc ? 'a bearer token or a sign-in' : 'a bearer token';
        throw new AndonError('ANDON_AUTH_REQUIRED', `this needs ${how} with role ${need === 'read' ? `${auth.oidc ? 'read, ' : ''}operator, ingest or admin` : need}`);
      }
      if (need !== 'read' && who.role !== need && who.role !== 'admin') throw new AndonError('ANDON_AUTH_FORBIDDEN', `role ${who.role} may not do this (needs ${need})`);
    },
  };
}
