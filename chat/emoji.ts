// Reactions are emoji: one emoji as Unicode recommends it (RGI), such as 👍, 🇫🇷 or 👩🏽‍💻.

// One recommended-for-general-interchange emoji, whole (keycaps, flags, ZWJ sequences, skin tones).
const ONE_EMOJI = /^\p{RGI_Emoji}$/v;
const PRESENTATION = "\ufe0f";

/**
 * The emoji `input` is, in its recommended form, or null when it is not exactly one emoji.
 * A text-style symbol that has an emoji form (❤ without U+FE0F) is given that form, so that
 * both spellings count as one reaction.
 */
export function normalizeEmoji(input: string): string | null {
  const text = input.normalize("NFC");
  if (text.length === 0 || text.length > 64) return null;
  if (ONE_EMOJI.test(text)) return text;
  const chars = Array.from(text);
  if (chars.length === 1) {
    const styled = text + PRESENTATION;
    if (ONE_EMOJI.test(styled)) return styled;
  }
  return null;
}
