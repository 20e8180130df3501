// Builds a Hono app from the manifest: static files, bundles, route middleware, routes and pages.
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { type ComponentType, h, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { type Bundle, BUNDLE_PREFIX, islandName } from "./bundle.ts";
import { registerIsland, takeRenderedIslands } from "./island_marker.tsx";
import { compareRoutes, routePath } from "./route_paths.ts";
import { loadStaticFiles, serveFile } from "./static_files.ts";
import { setAssetResolver } from "./asset.ts";
import type {
  AppProps,
  ErrorPageProps,
  Handler,
  Handlers,
  Manifest,
  PageProps,
  RouteContext,
  State,
} from "./types.ts";

/** Options for {@link createApp}. */
export interface AppOptions {
  /** The generated manifest of routes and islands. */
  manifest: Manifest;
  /** The browser bundle (built in memory or read from the `build` task's output). */
  bundle: Bundle;
  /** The folder served as static files. */
  staticDir: string;
  /** Middleware run before everything else, static files included (headers, compression). */
  middleware?: MiddlewareHandler[];
  /**
   * Turns an error (or a 404/405) into a response of the app's own; return undefined to
   * fall back to the `_404`/`_500` pages.
   */
  errorResponse?: (
    c: Context,
    status: number,
    error: unknown,
  ) => Response | undefined;
  /** The HTTP status of an error thrown by app code (HTTPException carries its own; else 500). */
  errorStatus?: (error: unknown) => number | undefined;
  /**
   * Headers for the error page of an error thrown by app code (e.g. `Retry-After`); the page
   * gets a `Retry-After` of theirs as its `retryAfter` prop.
   */
  errorHeaders?: (error: unknown, status: number) => HeadersInit | undefined;
}

type Page = ComponentType<PageProps<unknown, State>>;

/** Request state shared by all middleware and the route (created per request). */
export function getState<S = State>(c: Context): S {
  let state = c.get("state" as never) as S | undefined;
  if (!state) {
    state = {} as S;
    c.set("state" as never, state as never);
  }
  return state;
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

/** Creates the Hono app for a manifest. */
export async function createApp(options: AppOptions): Promise<Hono> {
  const { manifest, bundle } = options;
  for (const [file, module] of Object.entries(manifest.islands)) {
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === "function") {
        registerIsland(value as ComponentType, `${islandName(file)}#${name}`);
      }
    }
  }
  const statics = await loadStaticFiles(options.staticDir);
  setAssetResolver(statics.asset);

  const paths = Object.keys(manifest.routes).map(routePath);
  const special = (kind: string) => {
    const found = paths.find((p) => p.kind === kind && p.pattern === "/");
    return found ? manifest.routes[found.file] : undefined;
  };
  const AppShell = special("app")?.default as
    | ComponentType<AppProps>
    | undefined;
  const NotFoundPage = special("404")?.default as
    | ComponentType<ErrorPageProps>
    | undefined;
  const ErrorPage = special("500")?.default as
    | ComponentType<ErrorPageProps>
    | undefined;

  function renderHtml(
    c: Context,
    Component: ComponentType,
    init?: ResponseInit,
  ): Response {
    const url = new URL(c.req.url);
    const state = getState(c);
    const tree: VNode = AppShell
      ? h(AppShell, { Component, url, state }) as VNode
      : h("html", null, h("body", null, h(Component, {})));
    takeRenderedIslands();
    let html = "<!DOCTYPE html>" + renderToString(tree);
    const used = takeRenderedIslands();
    if (used.size > 0) {
      const urls: Record<string, string> = {};
      for (const name of used) urls[name] = bundle.islands[name];
      const json = JSON.stringify(urls).replace(/</g, "\\u003c");
      const tags = `<script type="application/json" id="__islands">${json}</script>` +
        `<script type="module" src="${bundle.boot}"></script>`;
      const at = html.lastIndexOf("</body>");
      html = at === -1 ? html + tags : html.slice(0, at) + tags + html.slice(at);
    }
    const headers = new Headers(init?.headers);
    headers.set("content-type", "text/html; charset=utf-8");
    return new Response(html, { ...init, headers });
  }

  function errorResponse(c: Context, status: number, error: unknown) {
    const own = options.errorResponse?.(c, status, error);
    if (own) return own;
    const Page = status === 404 ? NotFoundPage : ErrorPage;
    const message = status === 404
      ? "Not found"
      : error instanceof HTTPException || (status < 500 && error instanceof Error)
      ? error.message
      : status === 503
      ? "The service is unavailable for a moment; try again shortly."
      : "Something went wrong";
    const headers = new Headers(options.errorHeaders?.(error, status));
    if (!Page) {
      headers.set("content-type", "text/plain; charset=utf-8");
      return new Response(message, { status, headers });
    }
    const url = new URL(c.req.url);
    const state = getState(c);
    const retryAfter = Number(headers.get("retry-after")) || undefined;
    return renderHtml(
      c,
      () => h(Page, { url, state, status, message, retryAfter }),
      { status, headers },
    );
  }

  const app = new Hono();
  for (const middleware of options.middleware ?? []) app.use(middleware);
  app.use(statics.middleware);
  app.get(`${BUNDLE_PREFIX}:file`, (c) => {
    const body = bundle.files.get(c.req.param("file"));
    if (!body) return errorResponse(c, 404, null);
    const etag = `"${c.req.param("file")}"`;
    return serveFile(
      c.req.raw,
      { body, etag, type: "text/javascript; charset=utf-8" },
      true,
    );
  });

  const middlewares = paths.filter((p) => p.kind === "middleware")
    .sort((a, b) => a.pattern.length - b.pattern.length);
  for (const { file, pattern } of middlewares) {
    const exported = manifest.routes[file].handler as
      | MiddlewareHandler
      | MiddlewareHandler[];
    const list = Array.isArray(exported) ? exported : [exported];
    const base = pattern === "/" ? "" : pattern;
    for (const middleware of list) {
      app.use(base || "*", middleware);
      if (base) app.use(`${base}/*`, middleware);
    }
  }

  const routes = paths.filter((p) => p.kind === "route").sort(compareRoutes);
  for (const { file, pattern } of routes) {
    const module = manifest.routes[file];
    const Page = module.default as Page | undefined;
    const handler = module.handler as Handler | Handlers | undefined;
    app.all(pattern, async (c) => {
      const method = c.req.method as typeof METHODS[number];
      const ctx: RouteContext = {
        req: c.req.raw,
        url: new URL(c.req.url),
        params: c.req.param() as Record<string, string>,
        state: getState(c),
        hono: c,
        render(data, init) {
          if (!Page) throw new Error(`${file} has no page component to render`);
          const props = { data, params: ctx.params, url: ctx.url, state: ctx.state };
          return renderHtml(c, () => h(Page, props), init);
        },
      };
      // Headers set through the Hono context (cookies) join whatever response the route made.
      const respond = (res: Response) => c.newResponse(res.body, res);
      if (typeof handler === "function") return respond(await handler(ctx));
      // Only the handler's own methods: the request's method must not reach `toString` & co.
      const ownMethod = (m: typeof METHODS[number]) =>
        handler && Object.hasOwn(handler, m) ? handler[m] : undefined;
      const own = ownMethod(method) ?? (method === "HEAD" ? handler?.GET : undefined);
      if (own) return respond(await own(ctx));
      if (Page && (method === "GET" || method === "HEAD")) return respond(ctx.render());
      const canGet = Boolean(handler?.GET || Page);
      const allowed = METHODS.filter((m) =>
        handler?.[m] || (canGet && (m === "GET" || m === "HEAD"))
      );
      throw new HTTPException(405, {
        message: `Method ${method} is not allowed here`,
        res: new Response(null, { headers: { allow: allowed.join(", ") } }),
      });
    });
  }

  app.notFound((c) => errorResponse(c, 404, null));
  app.onError((error, c) => {
    const status = error instanceof HTTPException
      ? error.status
      : options.errorStatus?.(error) ?? 500;
    const response = errorResponse(c, status, error);
    if (response.status === 500) console.error(error);
    else if (response.status > 500) console.warn(`${response.status} ${c.req.path}: ${error}`);
    if (error instanceof HTTPException && error.res) {
      for (const [k, v] of error.res.headers) response.headers.set(k, v);
    }
    return response;
  });
  return app;
}
