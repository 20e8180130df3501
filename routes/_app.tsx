// The page shell around every route: document head, styles and the body.
import { type AppProps, asset } from "../runtime/mod.ts";
import type { AppState } from "../http/app_state.ts";

/** Wraps every page. Pages set `state.title` for the document title. */
export default function App({ Component, state }: AppProps<AppState & { title?: string }>) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
        <meta name="color-scheme" content="light dark" />
        <meta name="theme-color" content="#f7f7f9" media="(prefers-color-scheme: light)" />
        <meta name="theme-color" content="#16171d" media="(prefers-color-scheme: dark)" />
        <title>{state.title ? `${state.title} · Parley` : "Parley"}</title>
        <link rel="icon" href={asset("/favicon.svg")} type="image/svg+xml" />
        <link rel="manifest" href={asset("/manifest.webmanifest")} />
        <link rel="stylesheet" href={asset("/styles.css")} />
      </head>
      <body>
        <Component />
      </body>
    </html>
  );
}
