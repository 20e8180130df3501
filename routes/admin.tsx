// The admin page (admins only): members, rooms, invitations, settings and the audit log; others see the 404 page.
import type { Handlers, PageProps } from "../runtime/mod.ts";
import type { AppState } from "../http/app_state.ts";
import { AdminPanel, type AdminPanelProps } from "../islands/admin_panel.tsx";
import { AUDIT_PAGE } from "../chat/moderation.ts";
import { requestTime } from "../http/reader_time.ts";

export const handler: Handlers<AdminPanelProps, AppState & { title?: string }> = {
  async GET(ctx) {
    const { session, member, moderation } = ctx.state;
    // Not logged in: the login page, and back here after. Logged in, not an admin: no such page.
    if (!session?.account || !member) return ctx.hono.redirect("/login?next=%2Fadmin", 303);
    if (!session.account.isAdmin) return await ctx.hono.notFound();
    ctx.state.title = "Admin";
    const [members, rooms, invites, audit] = await Promise.all([
      moderation.members(),
      moderation.rooms(),
      moderation.invites(),
      moderation.auditLog(),
    ]);
    return ctx.render({
      me: member,
      members,
      rooms,
      invites,
      settings: moderation.settings(),
      audit,
      auditPage: AUDIT_PAGE,
      time: requestTime(ctx.hono),
    }, { headers: { "cache-control": "no-store" } });
  },
};

export default function Admin({ data }: PageProps<AdminPanelProps>) {
  return <AdminPanel {...data} />;
}
