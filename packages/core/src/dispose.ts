/**
 * The key `await using` calls. Node has `Symbol.asyncDispose` from 20.4 on; before that, the
 * registered symbol TypeScript's downlevelled `await using` looks up instead.
 */
export const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? (Symbol.for('Symbol.asyncDispose') as typeof Symbol.asyncDispose);
