/**
 * kombu's regex for a topic binding (TopicExchange.key_to_pattern), stored in the binding member
 * so a Python kombu publisher routes through bindings that nori declared. nori itself matches
 * word lists (routing.ts) and ignores the pattern.
 */
const WILDCARDS: Record<string, string> = { '*': '.*?[^\\.]', '#': '.*?' };

/** kombu's escape_regex(p, '.#*'): every character that is not alphanumeric gets a backslash. */
function escape(key: string): string {
  return [...key].map((c) => (/[\p{L}\p{N}]/u.test(c) || '.#*'.includes(c) ? c : c === '\0' ? '\\000' : `\\${c}`)).join('');
}

export function topicPattern(routingKey: string): string {
  return `^${escape(routingKey)
    .split('.')
    .map((word) => WILDCARDS[word] ?? word)
    .join('\\.')}$`;
}
