// Account settings: change the password, log out everywhere, and (admins) invitation links.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { ConfirmDialog } from "../components/confirm_dialog.tsx";
import { timeFormatter, type TimeSettings } from "../components/timeline.ts";

/** Props of {@link AccountSettings}. */
export interface AccountSettingsProps {
  username: string;
  isAdmin: boolean;
  /** The reader's locale and time zone, for dates in the same style as the chat's. */
  time: TimeSettings;
}

async function call(method: string, path: string, body?: unknown) {
  try {
    const response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json().catch(() => null);
    return { ok: response.ok, json, error: json?.error?.message as string | undefined };
  } catch {
    return { ok: false, json: null, error: "No connection; try again." };
  }
}

/** The account page's forms. */
export function AccountSettings(props: AccountSettingsProps) {
  // Until the forms are live, a submit would post the page itself: tests wait for this mark.
  const hydrated = useSignal(false);
  useEffect(() => {
    hydrated.value = true;
  }, []);
  const current = useSignal("");
  const next = useSignal("");
  const passwordStatus = useSignal("");
  const inviteLink = useSignal("");
  const inviteStatus = useSignal("");
  const sessionsStatus = useSignal("");
  const confirming = useSignal(false);
  const copied = useSignal("");
  const time = timeFormatter(props.time);

  async function changePassword(event: Event) {
    event.preventDefault();
    const result = await call("PUT", "/api/auth/password", {
      currentPassword: current.value,
      newPassword: next.value,
    });
    if (result.ok) {
      current.value = next.value = "";
      const ended = result.json.endedOtherSessions;
      passwordStatus.value = `Password changed. ${ended} other session${
        ended === 1 ? "" : "s"
      } ended.`;
    } else passwordStatus.value = result.error ?? "Could not change the password.";
  }

  async function logoutEverywhere() {
    confirming.value = false;
    sessionsStatus.value = "";
    const result = await call("DELETE", "/api/auth/sessions");
    if (result.ok) location.assign("/login");
    else sessionsStatus.value = result.error ?? "Could not log out everywhere; try again.";
  }

  async function invite() {
    const result = await call("POST", "/api/invites");
    if (result.ok) {
      inviteLink.value = result.json.url;
      copied.value = "";
      inviteStatus.value = `Valid once, until ${time.full(new Date(result.json.expiresAt))}.`;
    } else inviteStatus.value = result.error ?? "Could not create an invitation.";
  }

  /** Copies the invitation link; where the clipboard is refused, selects it for Ctrl+C. */
  async function copyInvite() {
    try {
      await navigator.clipboard.writeText(inviteLink.value);
      copied.value = "Copied to the clipboard.";
    } catch {
      const field = document.querySelector<HTMLInputElement>("input.invite-link");
      field?.focus();
      field?.select();
      copied.value = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  }

  return (
    <main class="account-page" data-hydrated={hydrated.value ? "" : undefined}>
      <p>
        <a href="/">← Back to the chat</a>
      </p>
      <h1>@{props.username}</h1>
      <div class="account-forms">
        <form class="account-form" method="post" onSubmit={changePassword}>
          <h2>Change password</h2>
          <label class="field">
            <span>Current password</span>
            <input
              type="password"
              name="current-password"
              autoComplete="current-password"
              required
              value={current.value}
              onInput={(e) => current.value = e.currentTarget.value}
            />
          </label>
          <label class="field">
            <span>New password</span>
            <input
              type="password"
              name="new-password"
              autoComplete="new-password"
              required
              value={next.value}
              onInput={(e) => next.value = e.currentTarget.value}
            />
            <small>At least 10 characters. Your other sessions will end.</small>
          </label>
          <p class="status" role="status">{passwordStatus.value}</p>
          <button type="submit">Change password</button>
        </form>
        <section class="account-form">
          <h2>Sessions</h2>
          <p class="hint">Ends every session of this account, on every device, this one too.</p>
          <button
            type="button"
            class="danger"
            aria-haspopup="dialog"
            onClick={() => confirming.value = true}
          >
            Log out everywhere
          </button>
          <p class="status" role="status">{sessionsStatus.value}</p>
          {confirming.value && (
            <ConfirmDialog
              title="Log out everywhere?"
              confirmLabel="Log out everywhere"
              onConfirm={logoutEverywhere}
              onCancel={() => confirming.value = false}
            >
              Every device signed in as @{props.username} is logged out, this one too.
            </ConfirmDialog>
          )}
          {props.isAdmin && (
            <>
              <h2>Invitations</h2>
              <p class="hint">A link that lets one person register.</p>
              <button type="button" onClick={invite}>Create an invitation link</button>
              {inviteLink.value && (
                <div class="invite-row">
                  <input
                    class="invite-link"
                    readOnly
                    value={inviteLink.value}
                    aria-label="Invitation link"
                  />
                  <button type="button" class="secondary" onClick={copyInvite}>Copy</button>
                </div>
              )}
              <p class="status" role="status">{copied.value}</p>
              <p class="status" role="status">{inviteStatus.value}</p>
            </>
          )}
        </section>
      </div>
    </main>
  );
}
