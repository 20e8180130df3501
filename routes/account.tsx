// The account page (accounts only; guests go to the login page).
import type { Handlers, PageProps } from "../runtime/mod.ts";
import type { AppState } from "../http/app_state.ts";
import { AccountSettings, type AccountSettingsProps } from "../islands/account_settings.tsx";
import { requestTime } from "../http/reader_time.ts";

export const handler: Handlers<AccountSettingsProps, AppState & { title?: string }> = {
  GET(ctx) {
    const account = ctx.state.session?.account;
    if (!account) return ctx.hono.redirect("/login?next=%2Faccount", 303);
    ctx.state.title = "Account";
    const time = requestTime(ctx.hono);
    return ctx.render({ ...account, time }, { headers: { "cache-control": "no-store" } });
  },
};

export default function Account({ data }: PageProps<AccountSettingsProps>) {
  return <AccountSettings {...data} />;
}
