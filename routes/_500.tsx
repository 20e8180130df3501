// The page shown when a request fails: the server, the database, or a limit the visitor reached.
import type { ErrorPageProps } from "../runtime/mod.ts";

const TITLES: Record<number, string> = {
  429: "Too many requests",
  503: "Parley is unavailable",
};

/** When to try again, in words: "in 2 seconds", "in 3 minutes". */
function retryIn(seconds: number): string {
  if (seconds < 90) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minutes`;
}

/** An error page: what happened and, when the answer says so, when trying again may work. */
export default function ServerError({ status, message, retryAfter }: ErrorPageProps) {
  return (
    <main class="error-page">
      <h1>{TITLES[status] ?? "Something went wrong"}</h1>
      <p>{message}</p>
      {retryAfter
        ? (
          <p>
            You can <a href="">try again</a> {retryIn(retryAfter)}.
          </p>
        )
        : (
          <p>
            <a href="/">Try again</a>
          </p>
        )}
    </main>
  );
}
