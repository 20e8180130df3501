// `asset()`: versioned URLs for static files, usable from any server-rendered component.

let resolve: (path: string) => string = (path) => path;

/** Sets how asset paths are versioned (the app does this when it loads static/). */
export function setAssetResolver(resolver: (path: string) => string): void {
  resolve = resolver;
}

/** `/styles.css` → `/styles.css?v=<hash>`, so the browser may cache it forever. */
export function asset(path: string): string {
  return resolve(path);
}
