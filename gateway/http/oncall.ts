import type { FastifyPluginAsync } from 'fastify';
import type { AndonConfig } from '../../config/schema.ts';
import { AndonError } from '../../model/errors.ts';
import { onCallOf, type DutyPerson } from '../schedules/oncall.ts';

interface Opts {
  /** The config in use now (a reload may change the schedules). */
  current: () => AndonConfig;
  now: () => number;
}

const person = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['id', 'name', 'notify', 'override'],
  properties: {
    id: { type: 'string', description: 'The person\'s id under schedules.people.' },
    name: { type: 'string', description: 'Display name (the id when none is configured).' },
    notify: { type: 'string', description: 'The notify channel that reaches them.' },
    override: { type: 'boolean', description: 'Named by an override for the day, not by the rotation.' },
  },
} as const;

const duty = {
  type: 'object',
  additionalProperties: false,
  required: ['group', 'shift', 'onCall', 'supervisor'],
  properties: {
    group: { type: 'string' },
    shift: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['id', 'from', 'to'],
      description: 'The shift under way; null when nobody of the group is on duty.',
      properties: { id: { type: 'string' }, from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' } },
    },
    onCall: person,
    supervisor: person,
  },
} as const;

const iso = (ms: number) => new Date(ms).toISOString();
const view = (p: DutyPerson | null) => p && { id: p.id, name: p.name, notify: p.notify, override: p.override };

/** `GET /api/v1/oncall?at=&group=` (role read): who of each scheduled group is on duty (contracts §On-call). */
export const oncallRoutes: FastifyPluginAsync<Opts> = async (app, { current, now }) => {
  app.get<{ Querystring: { at?: string; group?: string } }>(
    '/oncall',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Who is on duty: the shift, on-call person and supervisor of each scheduled group',
        description:
          'From `schedules:` in `gateway.timezone`: rotations and overrides for the day. `?at=` (ISO date-time, default now) asks about another moment; `?group=` about one group (404 ANDON_ONCALL_UNKNOWN_GROUP when it has no schedule).',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            at: { type: 'string', maxLength: 64, description: 'The moment (ISO date-time); default now.' },
            group: { type: 'string', maxLength: 200, description: 'Only this group.' },
          },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['at', 'timezone', 'groups'],
            properties: {
              at: { type: 'string', format: 'date-time' },
              timezone: { type: 'string', description: 'gateway.timezone, in which shifts are defined.' },
              groups: { type: 'array', items: duty, description: 'One entry per scheduled group, in config order.' },
            },
          },
        },
      },
    },
    async (req) => {
      const config = current();
      let at = now();
      if (req.query.at !== undefined) {
        at = Date.parse(req.query.at);
        if (!Number.isFinite(at) || Math.abs(at) > 8.64e15) throw new AndonError('ANDON_REQUEST_INVALID', `at must be an ISO date-time, got "${req.query.at}"`, { path: 'at' });
      }
      const oncall = onCallOf(config);
      const { group } = req.query;
      if (group !== undefined && !oncall.has(group)) throw new AndonError('ANDON_ONCALL_UNKNOWN_GROUP', `group "${group}" has no schedule under schedules.groups`, { path: 'group' });
      const groups = (group === undefined ? oncall.names() : [group]).map((name) => {
        const d = oncall.at(name, at)!;
        return { group: name, shift: d.shift && { id: d.shift.id, from: iso(d.shift.from), to: iso(d.shift.to) }, onCall: view(d.onCall), supervisor: view(d.supervisor) };
      });
      return { at: iso(at), timezone: config.gateway.timezone, groups };
    },
  );
};
