// The admin page: members (search, ban, admin rights, erase messages), rooms (archive, delete), invitations, settings, the audit log.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { AdminMember, AdminRoom, AuditEntry, OpenInvite } from "../db/store.ts";
import { ConfirmDialog } from "../components/confirm_dialog.tsx";
import { timeFormatter, type TimeSettings } from "../components/timeline.ts";

/** Props of {@link AdminPanel}: everything the page shows when it loads. */
export interface AdminPanelProps {
  /** The admin looking at the page. */
  me: { id: number; name: string };
  members: AdminMember[];
  rooms: AdminRoom[];
  invites: OpenInvite[];
  /** The effective settings, secrets already hidden. */
  settings: Record<string, unknown>;
  audit: AuditEntry[];
  /** Entries per audit page (fewer: no older page). */
  auditPage: number;
  time: TimeSettings;
}

/** What a confirmation dialog is about to do. */
type Pending =
  | { kind: "ban"; member: AdminMember }
  | { kind: "delete-messages"; member: AdminMember }
  | { kind: "archive"; room: AdminRoom }
  | { kind: "delete-room"; room: AdminRoom };

async function call(method: string, path: string, body?: unknown) {
  try {
    const response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = response.status === 204 ? null : await response.json().catch(() => null);
    return { ok: response.ok, json, error: json?.error?.message as string | undefined };
  } catch {
    return { ok: false, json: null, error: "No connection; try again." };
  }
}

/** Nested settings as `a.b: value` rows. */
function settingRows(value: unknown, prefix = ""): [string, string][] {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([key, inner]) =>
      settingRows(inner, prefix ? `${prefix}.${key}` : key)
    );
  }
  return [[prefix, Array.isArray(value) ? value.join(", ") || "(none)" : String(value)]];
}

/** "1 message", "2 messages". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** "ban" and friends, said as a person would. */
const ACTIONS: Record<string, string> = {
  "member.ban": "banned",
  "member.unban": "lifted the ban of",
  "member.promote": "made an admin:",
  "member.demote": "removed admin rights of",
  "member.delete_messages": "deleted all messages of",
  "room.archive": "archived",
  "room.delete": "deleted",
};

/** Words for screen readers only (after a short visible label), preceded by a space. */
function Hidden(props: { text: string }) {
  return <span class="visually-hidden">{` ${props.text}`}</span>;
}

/** The admin page's interactive parts. */
export function AdminPanel(props: AdminPanelProps) {
  const members = useSignal(props.members);
  const rooms = useSignal(props.rooms);
  const audit = useSignal(props.audit);
  const moreAudit = useSignal(props.audit.length >= props.auditPage);
  const query = useSignal("");
  const status = useSignal("");
  const pending = useSignal<Pending | null>(null);
  const typed = useSignal("");
  const typedError = useSignal("");
  const hydrated = useSignal(false);
  useEffect(() => {
    hydrated.value = true;
  }, []);
  const time = timeFormatter(props.time);
  const when = (ms: number) => `${time.dayKey(new Date(ms))} ${time.clock(new Date(ms))}`;

  async function refresh() {
    const [found, listed, logged] = await Promise.all([
      call("GET", `/api/admin/members?q=${encodeURIComponent(query.value)}`),
      call("GET", "/api/admin/rooms"),
      call("GET", "/api/admin/audit"),
    ]);
    if (found.ok) members.value = found.json.members;
    if (listed.ok) rooms.value = listed.json.rooms;
    if (logged.ok) {
      audit.value = logged.json.entries;
      moreAudit.value = logged.json.entries.length >= props.auditPage;
    }
  }

  async function act(done: string, method: string, path: string, body?: unknown) {
    status.value = "";
    const result = await call(method, path, body);
    // Said once the lists show it.
    await refresh();
    status.value = result.ok ? done : result.error ?? "That did not work; try again.";
    return result;
  }

  async function search(event: Event) {
    event.preventDefault();
    const found = await call("GET", `/api/admin/members?q=${encodeURIComponent(query.value)}`);
    if (found.ok) {
      members.value = found.json.members;
      status.value = `${found.json.members.length} member${
        found.json.members.length === 1 ? "" : "s"
      } found.`;
    } else status.value = found.error ?? "Could not search.";
  }

  async function olderAudit() {
    const last = audit.value.at(-1);
    if (!last) return;
    const page = await call("GET", `/api/admin/audit?before=${last.id}`);
    if (page.ok) {
      audit.value = [...audit.value, ...page.json.entries];
      moreAudit.value = page.json.entries.length >= props.auditPage;
    }
  }

  async function confirm() {
    const what = pending.value;
    if (!what) return;
    if (what.kind === "delete-room" && typed.value.trim() !== what.room.slug) {
      typedError.value = `Type ${what.room.slug} to confirm.`;
      return;
    }
    pending.value = null;
    if (what.kind === "ban") {
      await act(
        `${what.member.name} is banned.`,
        "POST",
        `/api/admin/members/${what.member.id}/ban`,
      );
    } else if (what.kind === "delete-messages") {
      status.value = "";
      const result = await call("DELETE", `/api/admin/members/${what.member.id}/messages`);
      await refresh();
      status.value = result.ok
        ? `${count(result.json.deleted, "message")} of ${what.member.name} deleted.`
        : result.error ?? "Could not delete the messages.";
    } else if (what.kind === "archive") {
      await act(
        `#${what.room.name} is archived.`,
        "POST",
        `/api/admin/rooms/${what.room.slug}/archive`,
      );
    } else {
      await act(`#${what.room.name} is deleted.`, "DELETE", `/api/admin/rooms/${what.room.slug}`, {
        confirm: typed.value.trim(),
      });
    }
  }

  function ask(what: Pending) {
    typed.value = "";
    typedError.value = "";
    pending.value = what;
  }

  const dialog = pending.value;
  return (
    <main class="admin-page" id="main" data-hydrated={hydrated.value ? "" : undefined}>
      <p>
        <a href="/">← Back to the chat</a>
      </p>
      <h1>Admin</h1>
      <p class="admin-status" role="status" aria-live="polite">{status.value}</p>

      <section class="admin-section" aria-labelledby="admin-members">
        <h2 id="admin-members">Members</h2>
        <form class="admin-search" role="search" onSubmit={search}>
          <label for="admin-member-query">Search by name or username</label>
          <input
            id="admin-member-query"
            type="search"
            value={query.value}
            onInput={(e) => query.value = e.currentTarget.value}
          />
          <button type="submit">Search</button>
        </form>
        <div class="admin-table-wrap">
          <table class="admin-table">
            <caption class="visually-hidden">Members, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Role</th>
                <th scope="col">Last seen</th>
                <th scope="col">Messages</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {members.value.map((member) => (
                <tr key={member.id} data-member={member.id}>
                  <th scope="row">
                    {member.name}
                    <span class="admin-sub">
                      {member.username ? `@${member.username}` : "guest"}
                    </span>
                  </th>
                  <td data-label="Role">
                    {member.isAdmin ? "Admin" : member.username ? "Member" : "Guest"}
                    {member.bannedAt !== null && <span class="admin-badge">Banned</span>}
                  </td>
                  <td data-label="Last seen">
                    {member.lastSeenAt === null ? "—" : when(member.lastSeenAt)}
                  </td>
                  <td data-label="Messages">{member.messageCount}</td>
                  <td class="admin-actions">
                    {member.id === props.me.id ? <span class="admin-sub">You</span> : (
                      <>
                        {member.bannedAt === null
                          ? (
                            <button
                              type="button"
                              class="danger"
                              aria-haspopup="dialog"
                              onClick={() => ask({ kind: "ban", member })}
                            >
                              Ban<Hidden text={member.name} />
                            </button>
                          )
                          : (
                            <button
                              type="button"
                              onClick={() =>
                                act(
                                  `${member.name} is no longer banned.`,
                                  "DELETE",
                                  `/api/admin/members/${member.id}/ban`,
                                )}
                            >
                              Unban<Hidden text={member.name} />
                            </button>
                          )}
                        {member.username && (
                          <button
                            type="button"
                            onClick={() =>
                              act(
                                member.isAdmin
                                  ? `${member.name} is no longer an admin.`
                                  : `${member.name} is an admin.`,
                                "PUT",
                                `/api/admin/members/${member.id}/admin`,
                                { admin: !member.isAdmin },
                              )}
                          >
                            {member.isAdmin ? "Demote" : "Promote"}
                            <Hidden text={member.name} />
                          </button>
                        )}
                        <button
                          type="button"
                          class="danger"
                          aria-haspopup="dialog"
                          disabled={member.messageCount === 0}
                          onClick={() => ask({ kind: "delete-messages", member })}
                        >
                          Delete all messages<Hidden text={`of ${member.name}`} />
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {members.value.length === 0 && <p class="hint">No member matches.</p>}
      </section>

      <section class="admin-section" aria-labelledby="admin-rooms">
        <h2 id="admin-rooms">Rooms</h2>
        <div class="admin-table-wrap">
          <table class="admin-table">
            <caption class="visually-hidden">Public and private rooms</caption>
            <thead>
              <tr>
                <th scope="col">Room</th>
                <th scope="col">Members</th>
                <th scope="col">Messages</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rooms.value.map((room) => (
                <tr key={room.id} data-room={room.slug}>
                  <th scope="row">
                    #{room.name}
                    <span class="admin-sub">
                      {room.kind}
                      {room.archived ? " · archived" : ""}
                    </span>
                  </th>
                  <td data-label="Members">{room.members}</td>
                  <td data-label="Messages">{room.messages}</td>
                  <td class="admin-actions">
                    {!room.archived && (
                      <button
                        type="button"
                        aria-haspopup="dialog"
                        onClick={() => ask({ kind: "archive", room })}
                      >
                        Archive<Hidden text={`#${room.name}`} />
                      </button>
                    )}
                    {room.slug !== "general" && (
                      <button
                        type="button"
                        class="danger"
                        aria-haspopup="dialog"
                        onClick={() => ask({ kind: "delete-room", room })}
                      >
                        Delete<Hidden text={`#${room.name}`} />
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section class="admin-section" aria-labelledby="admin-invites">
        <h2 id="admin-invites">Open invitations</h2>
        {props.invites.length === 0
          ? <p class="hint">None. Create one on your account page.</p>
          : (
            <ul class="admin-list">
              {props.invites.map((invite) => (
                <li key={invite.id}>
                  By {invite.createdBy.name} on {when(invite.createdAt)}, valid until{" "}
                  {when(invite.expiresAt)}
                </li>
              ))}
            </ul>
          )}
      </section>

      <section class="admin-section" aria-labelledby="admin-settings">
        <h2 id="admin-settings">Settings</h2>
        <p class="hint">
          From the environment and the defaults; secrets show only whether they are set.
        </p>
        <dl class="admin-settings">
          {settingRows(props.settings).map(([key, value]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      </section>

      <section class="admin-section" aria-labelledby="admin-audit">
        <h2 id="admin-audit">Audit log</h2>
        {audit.value.length === 0
          ? <p class="hint">No admin action yet.</p>
          : (
            <ol class="admin-audit">
              {audit.value.map((entry) => (
                <li key={entry.id}>
                  <time dateTime={new Date(entry.at).toISOString()}>{when(entry.at)}</time>{" "}
                  <strong>{entry.actor?.name ?? "A former member"}</strong>{" "}
                  {ACTIONS[entry.action] ?? entry.action} {entry.targetKind === "room" ? "#" : ""}
                  {String(entry.detail.name ?? entry.targetId)}
                  {typeof entry.detail.deleted === "number" &&
                    ` (${entry.detail.deleted} messages)`}
                </li>
              ))}
            </ol>
          )}
        {moreAudit.value && (
          <button type="button" class="secondary" onClick={olderAudit}>Older entries</button>
        )}
      </section>

      {dialog?.kind === "ban" && (
        <ConfirmDialog
          title={`Ban ${dialog.member.name}?`}
          confirmLabel="Ban"
          onConfirm={confirm}
          onCancel={() => pending.value = null}
        >
          Every session of {dialog.member.name}{" "}
          ends now; they can no longer log in or post until the ban is lifted.
        </ConfirmDialog>
      )}
      {dialog?.kind === "delete-messages" && (
        <ConfirmDialog
          title={`Delete all messages of ${dialog.member.name}?`}
          confirmLabel="Delete all messages"
          onConfirm={confirm}
          onCancel={() => pending.value = null}
        >
          {count(dialog.member.messageCount, "message")}{" "}
          of theirs will be erased from every room, with their reactions and files. This cannot be
          undone.
        </ConfirmDialog>
      )}
      {dialog?.kind === "archive" && (
        <ConfirmDialog
          title={`Archive #${dialog.room.name}?`}
          confirmLabel="Archive"
          onConfirm={confirm}
          onCancel={() => pending.value = null}
        >
          The room stays readable, but nobody can post, edit or react in it any more.
        </ConfirmDialog>
      )}
      {dialog?.kind === "delete-room" && (
        <ConfirmDialog
          title={`Delete #${dialog.room.name}?`}
          confirmLabel="Delete the room"
          onConfirm={confirm}
          onCancel={() => pending.value = null}
        >
          The room, {count(dialog.room.messages, "message")}{" "}
          and their files will be deleted for good.{" "}
          <label class="admin-confirm-field">
            <span>Type {dialog.room.slug} to confirm</span>
            <input
              type="text"
              autoComplete="off"
              spellcheck={false}
              value={typed.value}
              onInput={(e) => {
                typed.value = e.currentTarget.value;
                typedError.value = "";
              }}
            />
          </label>
          <span class="admin-confirm-error" role="alert">{typedError.value}</span>
        </ConfirmDialog>
      )}
    </main>
  );
}
