// The login and registration page.
import type { Handlers, PageProps } from "../runtime/mod.ts";
import type { AppState } from "../http/app_state.ts";
import { localPath } from "../http/local_path.ts";
import { AccountForms, type AccountFormsProps } from "../islands/account_forms.tsx";

export const handler: Handlers<AccountFormsProps, AppState & { title?: string }> = {
  async GET(ctx) {
    const next = localPath(ctx.url.searchParams.get("next"));
    if (ctx.state.session?.account) return ctx.hono.redirect(next, 303);
    ctx.state.title = "Log in";
    const policy = ctx.state.accounts.policy;
    return ctx.render({
      next,
      invite: ctx.url.searchParams.get("invite") ?? "",
      // Until the first account (the admin) exists, registering needs no invitation.
      registration: await ctx.state.chat.store.countAccounts() === 0 ? "open" : policy.registration,
      guests: policy.guests,
    });
  },
};

export default function Login({ data }: PageProps<AccountFormsProps>) {
  return <AccountForms {...data} />;
}
