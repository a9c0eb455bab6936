import { z } from 'zod';
import { id } from '../../config/types.ts';

export const httpSourceSchema = z
  .strictObject({ id: id().describe('Source id: names the source in signals, metrics (`source` label), `silentFor` rules and actions.'), type: z.literal('http').describe('Signals POSTed to `/api/v1/signals` (role ingest); see connectors/http/README.md.') })
  .describe('Signals over HTTP from MES or scripts: `POST /api/v1/signals` with one signal or an array, answered after the ticket changes are committed (connectors/http/README.md).');
