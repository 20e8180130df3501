// The page shown when the server fails.
import type { ErrorPageProps } from "../runtime/mod.ts";

/** Server error. */
export default function ServerError({ status, message }: ErrorPageProps) {
  return (
    <main class="error-page">
      <h1>{status === 503 ? "Parley is unavailable" : "Something went wrong"}</h1>
      <p>{message}</p>
      <p>
        <a href="/">Try again</a>
      </p>
    </main>
  );
}
