import type { ContentPart } from '../chat-types.ts';

/** The text of a message's content: a string as is, text parts joined by spaces, nothing for null. */
export function messageText(content: string | ContentPart[] | null | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : '')).join(' ');
}
