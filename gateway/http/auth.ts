import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AndonConfig } from '../../config/schema.ts';
import { AndonError } from '../errors.ts';

export type Role = 'read' | 'operator' | 'ingest' | 'admin';

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Checks the bearer token against config; throws ANDON_AUTH_* when the role may not do `need`.
 * `queryToken` is for routes a browser opens without headers (EventSource): used when no header is sent.
 */
export function authorizer(auth: AndonConfig['gateway']['auth']) {
  return (req: FastifyRequest, need: Role, queryToken?: string): { name: string; role: Role } | null => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : header === undefined && queryToken ? queryToken : undefined;
    if (!token) {
      if (need === 'read' && auth.anonymousRead) return null;
      throw new AndonError('ANDON_AUTH_REQUIRED', `this needs a bearer token with role ${need === 'read' ? 'operator, ingest or admin' : need}`);
    }
    const who = auth.tokens.find((t) => same(t.token, token));
    if (!who) throw new AndonError('ANDON_AUTH_REQUIRED', 'unknown token');
    if (need !== 'read' && who.role !== need && who.role !== 'admin') throw new AndonError('ANDON_AUTH_FORBIDDEN', `role ${who.role} may not do this (needs ${need})`);
    return { name: who.name, role: who.role };
  };
}
