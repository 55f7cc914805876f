// One place that defines a route: its method and path, who may call it, the zod schemas of its
// input and output. The same definition validates requests, types the handler, and becomes
// /openapi.json (openapi.ts), so the description cannot drift from what the code accepts.
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { Role } from '../storage/registry.js';
import { ApiError, badRequest } from './errors.js';
import type { Principal } from './principal.js';

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> {
  method: 'get' | 'post' | 'delete' | 'put' | 'patch';
  /** Express syntax: /tickets/:id */
  path: string;
  summary: string;
  tag: string;
  /** Roles allowed; every authenticated role when omitted. */
  roles?: Role[];
  params?: P;
  query?: Q;
  body?: B;
  /** The success answer's schema, and its status (200 unless said). */
  response: R;
  status?: number;
  handler: (ctx: { principal: Principal; params: z.output<P>; query: z.output<Q>; body: z.output<B>; req: Request; res: Response }) => z.input<R> | Promise<z.input<R>>;
}

export type AnyRoute = RouteSpec<z.ZodType, z.ZodType, z.ZodType, z.ZodType>;

const EMPTY = z.object({});

function parse<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> {
  const result = (schema ?? EMPTY).safeParse(value ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.length ? `${where}.${issue.path.map(String).join('.')}` : where;
    throw badRequest(`${path}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data as z.output<T>;
}

export function defineRoute<P extends z.ZodType = z.ZodObject, Q extends z.ZodType = z.ZodObject, B extends z.ZodType = z.ZodObject, R extends z.ZodType = z.ZodType>(spec: RouteSpec<P, Q, B, R>): AnyRoute {
  return spec as unknown as AnyRoute;
}

/** Registers the routes on a router behind `authenticate`, which sets res.locals.principal. */
export function mount(router: Router, routes: AnyRoute[], authenticate: RequestHandler): void {
  for (const r of routes) {
    router[r.method](r.path, authenticate, async (req, res, next) => {
      try {
        const principal = res.locals.principal as Principal;
        if (r.roles && !r.roles.includes(principal.role)) throw new ApiError(403, 'forbidden', `this needs the role ${r.roles.join(' or ')}`);
        const params = parse(r.params, req.params, 'path');
        const query = parse(r.query, req.query, 'query');
        const body = r.method === 'get' || r.method === 'delete' ? {} : parse(r.body, req.body, 'body');
        const out = await r.handler({ principal, params, query, body, req, res });
        if (!res.headersSent) res.status(r.status ?? 200).json(out);
      } catch (err) {
        next(err);
      }
    });
  }
}
