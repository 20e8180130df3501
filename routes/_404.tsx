// The page shown for unknown addresses.
import type { ErrorPageProps } from "../runtime/mod.ts";

/** Not found. */
export default function NotFound({ url }: ErrorPageProps) {
  return (
    <main class="error-page">
      <h1>Nothing here</h1>
      <p>
        There is no page at <code>{url.pathname}</code>.
      </p>
      <p>
        <a href="/">Back to #general</a>
      </p>
    </main>
  );
}
