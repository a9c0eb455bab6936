import { z } from 'zod';
import { id } from '../../config/types.ts';

export const httpSourceSchema = z.strictObject({ id: id(), type: z.literal('http') });
