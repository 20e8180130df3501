// A message's text: markdown as typed in chats, rendered as Preact elements (escaped by Preact).
import { renderMarkdown } from "./markdown.tsx";

/** Renders a message body. */
export function MessageBody({ body }: { body: string }) {
  return <div class="body">{renderMarkdown(body)}</div>;
}
