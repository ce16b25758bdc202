/**
 * The regex stored with a topic binding (kombu keeps one in each binding member and routes a
 * Python publish by it). kombu 5.2's own pattern lets `*` match across dots; this one follows AMQP
 * (`*` exactly one word, `#` zero or more), so Python publishers route through nori's bindings
 * the way nori does. Characters are escaped as kombu's escape_regex does. nori itself matches word
 * lists (core's routing) and never reads the pattern.
 */
function escape(word: string): string {
  return [...word].map((c) => (/[\p{L}\p{N}]/u.test(c) ? c : c === '\0' ? '\\000' : `\\${c}`)).join('');
}

export function topicPattern(routingKey: string): string {
  const words = routingKey.split('.');
  let regex = '';
  // Whether the next word still needs the '\.' that separates it from what came before.
  let needsDot = false;
  words.forEach((word, i) => {
    const last = i === words.length - 1;
    if (word === '#') {
      if (i === 0 || !needsDot) regex += last ? '.*' : '(?:[^.]*\\.)*';
      else regex += last ? '(?:\\.[^.]*)*' : '(?:\\.[^.]*)*\\.';
      needsDot = false;
      return;
    }
    regex += (needsDot ? '\\.' : '') + (word === '*' ? '[^.]*' : escape(word));
    needsDot = true;
  });
  return `^${regex}$`;
}
