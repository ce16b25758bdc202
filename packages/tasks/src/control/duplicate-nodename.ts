/**
 * Celery's DuplicateNodenameWarning (celery/app/control.py, W_DUPNODE): two workers with one node
 * name share one mailbox queue, so a broadcast reaches only one of them and their replies merge.
 * A Node process warning, as Celery's is a Python warning: printed on stderr whatever the logger.
 */
const warned = new Set<string>();

/**
 * Warns once per process for each of `names`; `seen` says how two nodes with one name showed
 * (Celery's words for replies by default; a `hello` from a starting peer, or events from two pids).
 */
export function warnDuplicateNodenames(names: Iterable<string>, seen = 'Received multiple replies from'): void {
  const fresh = [...new Set(names)].filter((n) => !warned.has(n)).sort();
  if (fresh.length === 0) return;
  for (const n of fresh) warned.add(n);
  process.emitWarning(
    `${seen} node ${fresh.length === 1 ? 'name' : 'names'}: ${fresh.join(', ')}.\n` +
      'Please make sure you give each node a unique nodename using the worker `-n` option (`hostname`).',
    { type: 'DuplicateNodenameWarning' },
  );
}
