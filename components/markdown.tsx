// Renders a message body's markdown as Preact elements, built from markdown-it's token stream:
// Preact escapes every text, no HTML string is ever built, so there is nothing to sanitize.
// Used on the server and in the island alike.
import { h } from "preact";
import type { ComponentChildren } from "preact";
import { isSafeHref, parseBody, type Token } from "../chat/markdown.ts";

/** The Preact elements of a message body (markdown as people type it in chats). */
export function renderMarkdown(body: string): ComponentChildren {
  return build(parseBody(body));
}

/** An element being built: its opening token and the children so far. */
type Open = { token: Token | null; children: ComponentChildren[] };

function build(tokens: Token[]): ComponentChildren[] {
  const stack: Open[] = [{ token: null, children: [] }];
  const add = (child: ComponentChildren) => stack[stack.length - 1].children.push(child);
  for (const token of tokens) {
    if (token.nesting === 1) {
      stack.push({ token, children: [] });
    } else if (token.nesting === -1) {
      const open = stack.length > 1 ? stack.pop()! : null;
      if (open) add(element(open.token!, open.children, stack[stack.length - 1].children.length));
    } else {
      add(leaf(token, stack[stack.length - 1].children.length));
    }
  }
  // Unclosed tokens (never from markdown-it) still show their text.
  while (stack.length > 1) {
    const open = stack.pop()!;
    stack[stack.length - 1].children.push(...open.children);
  }
  return stack[0].children;
}

function element(open: Token, children: ComponentChildren[], key: number): ComponentChildren {
  switch (open.type) {
    case "paragraph_open":
      // An item of a tight list holds its text without a paragraph.
      return open.hidden ? children : h("p", { key }, children);
    case "heading_open":
      // Headings are no bigger than the text around them: a bold line.
      return h("p", { key }, h("strong", null, children));
    case "blockquote_open":
      return h("blockquote", { key }, children);
    case "bullet_list_open":
      return h("ul", { key }, children);
    case "ordered_list_open": {
      const start = Number(open.attrGet("start") ?? 1);
      return h("ol", { key, start: start === 1 ? undefined : start }, children);
    }
    case "list_item_open":
      return h("li", { key }, children);
    case "strong_open":
      return h("strong", { key }, children);
    case "em_open":
      return h("em", { key }, children);
    case "s_open":
      return h("del", { key }, children);
    case "link_open": {
      const href = String(open.attrGet("href") ?? "");
      // markdown-it only makes links of safe addresses (chat/markdown.ts); checked again here.
      return isSafeHref(href)
        ? h("a", { key, href, rel: "noopener noreferrer nofollow ugc", target: "_blank" }, children)
        : children;
    }
    default:
      return children;
  }
}

function leaf(token: Token, key: number): ComponentChildren {
  switch (token.type) {
    case "inline":
      return build(token.children ?? []);
    case "text":
    case "text_special":
      return token.content;
    case "softbreak":
    case "hardbreak":
      return h("br", { key });
    case "code_inline":
      return h("code", { key }, token.content);
    case "fence":
      return codeBlock(token, key);
    case "hr":
      return h("hr", { key });
    case "image":
      // No images: the text as typed.
      return `![${token.content}](${token.attrGet("src") ?? ""})`;
    default:
      return token.content;
  }
}

function codeBlock(token: Token, key: number): ComponentChildren {
  const language = token.info.trim().split(/\s+/)[0];
  return h(
    "div",
    { key, class: "code-block" },
    language ? h("span", { class: "code-lang" }, language) : null,
    h("pre", { tabIndex: 0 }, h("code", null, token.content.replace(/\n$/, ""))),
  );
}
