import type { FastifyPluginAsync } from 'fastify';
import type { AuditLog, AuditWho } from '../audit/audit.ts';
import { ReloadError, type ReloadResult } from '../reload.ts';

interface Opts {
  /** The gateway's reload (gateway/main.ts), which records itself in the audit trail; absent when it was started without a config file. */
  reload: ((who: AuditWho) => Promise<ReloadResult>) | undefined;
  /** Counts a refusal answered here (andon_http_errors_total{code}). */
  onRefused: (code: string) => void;
  /** The audit trail: a reload asked of a gateway without a config file is recorded here. */
  audit?: AuditLog;
}

const problem = {
  type: 'object',
  properties: { path: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
};

/** A refused reload: the error's `{ code, message }`, every problem of the file, or the keys that need a restart. */
const refusal = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    problems: { type: 'array', items: problem, description: 'ANDON_RELOAD_INVALID: every problem, as `andon check-config` lists them.' },
    keys: { type: 'array', items: { type: 'string' }, description: 'ANDON_RELOAD_RESTART_REQUIRED: the changed keys that only a restart applies.' },
  },
};

/**
 * `POST /api/v1/admin/reload` (role admin): reads the config file again and
 * applies it without a restart, as SIGHUP does. 200 with what changed; 422
 * ANDON_RELOAD_INVALID with every problem, 409 ANDON_RELOAD_RESTART_REQUIRED
 * with the keys: then nothing is applied and the running config stays.
 */
export const adminRoutes: FastifyPluginAsync<Opts> = async (app, { reload, onRefused, audit }) => {
  app.post(
    '/admin/reload',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Read the config file again and apply it without a restart (as SIGHUP does)',
        description:
          'Reads the config file again, validates it as `andon check-config` does and swaps it in: rules, routing, escalation, notify, priorities, assets, tokens, actions, store retention and forward. Only sources whose config changed are restarted. Tickets, SLA and escalation timers and shelving are kept. Keys that need a restart (gateway.http.*, gateway.dataDir...) refuse the whole reload.',
        response: {
          200: {
            type: 'object',
            properties: {
              outcome: { type: 'string', enum: ['applied', 'unchanged'] },
              sha: { type: 'string', description: 'sha256 of the file now in use (andon_config_info{sha}).' },
              changed: { type: 'array', items: { type: 'string' }, description: 'The sections that changed (`routing`, `gateway.auth.tokens`, `sources`...).' },
              restarted: { type: 'array', items: { type: 'string' }, description: 'Sources whose connector was restarted or started (changed or new).' },
              removed: { type: 'array', items: { type: 'string' }, description: 'Sources no longer in the file, stopped.' },
            },
          },
          409: refusal,
          422: refusal,
        },
      },
    },
    async (req, reply) => {
      const who = { actor: req.who?.name ?? null, origin: req.ip };
      try {
        if (!reload) {
          audit?.record({ ...who, action: 'config.reload', outcome: 'unavailable', code: 'ANDON_RELOAD_UNAVAILABLE', details: { trigger: 'http' } });
          throw new ReloadError('ANDON_RELOAD_UNAVAILABLE', 'this gateway was started without a config file; there is nothing to reload');
        }
        return await reload(who);
      } catch (err) {
        if (!(err instanceof ReloadError)) throw err;
        onRefused(err.code);
        return reply.status(err.status as 409 | 422).send(err.toJSON());
      }
    },
  );
};
