import { Ajv } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Request validation. Bodies are checked strictly: no type coercion (a tag of
 * 123 is an error, not "123") and unknown fields are errors, not silently
 * dropped. Query strings and params arrive as text, so they are coerced.
 */
const strict = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: true, allowUnionTypes: true, strict: true });
const lenient = new Ajv({ allErrors: false, coerceTypes: 'array', removeAdditional: false, useDefaults: true, allowUnionTypes: true, strict: true });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict : lenient).compile(schema as object);
