// Shared types of the islands runtime: route modules, contexts, page props and the manifest.
import type { Context, MiddlewareHandler } from "hono";
import type { ComponentType, VNode } from "preact";

/** Per-request state that middleware fills in and routes read (Fresh's `ctx.state`). */
export type State = Record<string, unknown>;

/** What a route handler receives. */
export interface RouteContext<Data = unknown, S = State> {
  /** The incoming request. */
  req: Request;
  /** The request URL, parsed. */
  url: URL;
  /** Values of the route's dynamic segments, e.g. `{ room: "general" }`. */
  params: Record<string, string>;
  /** Request state filled in by middleware. */
  state: S;
  /** The underlying Hono context, for cookies and headers. */
  hono: Context;
  /** Renders the route's page component with `data`. */
  render(data?: Data, init?: ResponseInit): Response;
}

/** A handler for one HTTP method. */
export type Handler<Data = unknown, S = State> = (
  ctx: RouteContext<Data, S>,
) => Response | Promise<Response>;

/** Per-method handlers, as exported by a route module under the name `handler`. */
export type Handlers<Data = unknown, S = State> = Partial<
  Record<
    "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE",
    Handler<Data, S>
  >
>;

/** Props given to a page component. */
export interface PageProps<Data = unknown, S = State> {
  data: Data;
  params: Record<string, string>;
  url: URL;
  state: S;
}

/** Props given to the `_app` wrapper. */
export interface AppProps<S = State> {
  Component: ComponentType;
  url: URL;
  state: S;
}

/** Props given to the `_404` and `_500` pages. */
export interface ErrorPageProps<S = State> {
  url: URL;
  state: S;
  status: number;
  message: string;
  /** Seconds after which trying again may work, when the answer says so (`Retry-After`). */
  retryAfter?: number;
}

/** What a module under `routes/` may export. */
export interface RouteModule {
  handler?: Handler | Handlers;
  default?: (props: PageProps<never, never>) => VNode | null;
}

/** What `_middleware.ts` exports. */
export interface MiddlewareModule {
  handler: MiddlewareHandler | MiddlewareHandler[];
}

/** The generated manifest: every route and island module, imported statically. */
export interface Manifest {
  routes: Record<string, Record<string, unknown>>;
  islands: Record<string, Record<string, unknown>>;
  baseUrl: string;
}
