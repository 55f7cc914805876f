// /openapi.json, generated from the route definitions (route.ts): the schemas that validate are
// the schemas that are documented.
import { z } from 'zod';
import type { AnyRoute } from './route.js';

const ERROR = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
};

function jsonSchema(s: z.ZodType, io: 'input' | 'output'): unknown {
  try {
    return z.toJSONSchema(s, { io, unrepresentable: 'any' });
  } catch {
    return {};
  }
}

function parameters(s: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!s) return [];
  const schema = jsonSchema(s, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({ name, in: where, required: where === 'path' || (schema.required ?? []).includes(name), schema: p }));
}

export function openApiDocument(routes: AnyRoute[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = '/api/v1' + r.path.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    paths[path]![r.method] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.roles ? { description: `Roles: ${r.roles.join(', ')}` } : {}),
      security: [{ bearer: [] }],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
      responses: {
        [String(r.status ?? 200)]: { description: 'OK', content: { 'application/json': { schema: jsonSchema(r.response, 'output') } } },
        '400': { description: 'invalid input', content: { 'application/json': { schema: ERROR } } },
        '401': { description: 'no or unknown token', content: { 'application/json': { schema: ERROR } } },
        '403': { description: 'role not allowed', content: { 'application/json': { schema: ERROR } } },
        '404': { description: 'not found, or not yours', content: { 'application/json': { schema: ERROR } } },
        '429': { description: 'rate limited', content: { 'application/json': { schema: ERROR } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Fleetwatch partner and NOC API', version, description: 'CONTRACT v1 section 2. Every answer is scoped to the caller\'s partner; noc sees all.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
