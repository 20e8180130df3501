// Log in and create an account: two small forms that call the auth API and go on to the chat.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

/** Props of {@link AccountForms}. */
export interface AccountFormsProps {
  /** Where to go afterwards (a local path). */
  next: string;
  /** An invitation token from the link, if any. */
  invite: string;
  registration: "open" | "invite";
  guests: boolean;
}

async function submit(path: string, body: unknown): Promise<string | null> {
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    if (response.ok) return null;
    const json = await response.json().catch(() => null);
    return json?.error?.message ?? `The server answered ${response.status}.`;
  } catch {
    return "No connection; try again.";
  }
}

function Field(
  { label, name, type = "text", autoComplete, value, onInput, hint }: {
    label: string;
    name: string;
    type?: "text" | "password";
    autoComplete: string;
    value: string;
    onInput: (value: string) => void;
    hint?: string;
  },
) {
  return (
    <label class="field">
      <span>{label}</span>
      {type === "password"
        ? (
          <input
            name={name}
            type="password"
            autoComplete={autoComplete}
            required
            value={value}
            onInput={(e) => onInput(e.currentTarget.value)}
          />
        )
        : (
          <input
            name={name}
            type="text"
            autoComplete={autoComplete}
            required
            value={value}
            onInput={(e) => onInput(e.currentTarget.value)}
          />
        )}
      {hint && <small>{hint}</small>}
    </label>
  );
}

/** The login and registration forms. */
export function AccountForms(props: AccountFormsProps) {
  const login = { username: useSignal(""), password: useSignal(""), error: useSignal("") };
  const join = { username: useSignal(""), password: useSignal(""), error: useSignal("") };
  const busy = useSignal(false);
  // Until the forms are live, a submit would post the page itself: tests wait for this mark.
  const hydrated = useSignal(false);
  useEffect(() => {
    hydrated.value = true;
  }, []);
  const canRegister = props.registration === "open" || props.invite !== "";

  async function run(event: Event, path: string, form: typeof login, extra = {}) {
    event.preventDefault();
    busy.value = true;
    form.error.value = "";
    const problem = await submit(path, {
      username: form.username.value,
      password: form.password.value,
      ...extra,
    });
    busy.value = false;
    if (problem) form.error.value = problem;
    else location.assign(props.next);
  }

  return (
    <main class="account-page" data-hydrated={hydrated.value ? "" : undefined}>
      <h1>Parley</h1>
      <div class="account-forms">
        <form
          class="account-form"
          method="post"
          onSubmit={(e) => run(e, "/api/auth/login", login)}
        >
          <h2>Log in</h2>
          <Field
            label="Username"
            name="username"
            autoComplete="username"
            value={login.username.value}
            onInput={(v) => login.username.value = v}
          />
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            value={login.password.value}
            onInput={(v) => login.password.value = v}
          />
          <p class="error" role="alert">{login.error.value}</p>
          <button type="submit" disabled={busy.value}>Log in</button>
        </form>
        <form
          class="account-form"
          method="post"
          onSubmit={(e) =>
            run(e, "/api/auth/register", join, props.invite ? { invite: props.invite } : {})}
        >
          <h2>Create an account</h2>
          {canRegister
            ? (
              <>
                <p class="hint">
                  {props.guests
                    ? "Keep your name and messages from this browser, on any device."
                    : "Join this Parley."}
                </p>
                <Field
                  label="Username"
                  name="new-username"
                  autoComplete="username"
                  value={join.username.value}
                  onInput={(v) => join.username.value = v}
                  hint="3–32 letters, digits, _ or -"
                />
                <Field
                  label="Password"
                  name="new-password"
                  type="password"
                  autoComplete="new-password"
                  value={join.password.value}
                  onInput={(v) => join.password.value = v}
                  hint="At least 10 characters"
                />
                <p class="error" role="alert">{join.error.value}</p>
                <button type="submit" disabled={busy.value}>Create account</button>
              </>
            )
            : <p class="hint">Registration is by invitation: ask an admin for a link.</p>}
        </form>
      </div>
      {props.guests && (
        <p class="hint">
          <a href={props.next}>Go on as a guest</a>
        </p>
      )}
    </main>
  );
}
