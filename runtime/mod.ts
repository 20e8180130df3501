// The islands runtime (our stand-in for Fresh): the public surface app code imports.
export { createApp, getState } from "./app.ts";
export type { AppOptions } from "./app.ts";
export { asset } from "./asset.ts";
export { buildBundle, readBundle, writeBundle } from "./bundle.ts";
export type { Bundle } from "./bundle.ts";
export { generateManifest, writeManifest } from "./manifest.ts";
export type {
  AppProps,
  ErrorPageProps,
  Handler,
  Handlers,
  Manifest,
  PageProps,
  RouteContext,
  State,
} from "./types.ts";
