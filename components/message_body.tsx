// A message's text: escaped by Preact, line breaks kept by CSS, web and mail addresses as links.
import { bodyParts } from "../chat/message_text.ts";

/** Renders a message body. */
export function MessageBody({ body }: { body: string }) {
  return (
    <div class="body">
      {bodyParts(body).map((part, i) =>
        part.href
          ? (
            <a key={i} href={part.href} rel="noopener noreferrer nofollow" target="_blank">
              {part.text}
            </a>
          )
          : part.text
      )}
    </div>
  );
}
