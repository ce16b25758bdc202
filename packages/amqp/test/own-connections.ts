/**
 * Close only this test's own connections on the shared RabbitMQ: the ones whose client property
 * `connection_name` is the name the test gave its Connection. `rabbitmqctl eval` runs the match
 * and the close inside the broker in one call (list_connections + close_connection would be two
 * CLI starts per close), and can keep closing on a timer for a chaos run.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A connection name unique to this run, safe inside an Erlang binary literal. */
export function ownConnectionName(label: string): string {
  return `nori test ${label} ${randomUUID().slice(0, 8)}`;
}

function mine(name: string): string {
  if (!/^[\w .-]+$/.test(name)) throw new Error(`connection name "${name}" is not safe to quote`);
  return `Mine = fun(P) -> case catch rabbit_networking:connection_info(P, [client_properties]) of
      [{client_properties, Props}] -> lists:keyfind(<<"connection_name">>, 1, Props) =:= {<<"connection_name">>, longstr, <<"${name}">>};
      _ -> false end end,
    Close = fun() -> length([ok || P <- rabbit_networking:connections(), Mine(P), (catch rabbit_networking:close_connection(P, "closed by a nori test")) =:= ok]) end,`;
}

async function evaluate(expression: string): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['eval', expression]);
  return stdout.trim();
}

/** Close every connection named `name` now; resolves with how many were closed. */
export async function closeOwnConnections(name: string): Promise<number> {
  return Number(await evaluate(`${mine(name)} Close().`));
}

/**
 * Close every connection named `name` every `intervalMs` until the returned stop() (or, as a
 * safety net if the test dies, after `maxCloses` rounds). The loop runs inside the broker.
 */
export async function keepClosingOwnConnections(name: string, intervalMs: number, maxCloses: number): Promise<() => Promise<void>> {
  const registered = `nori_chaos_${randomUUID().replaceAll('-', '')}`;
  await evaluate(`${mine(name)}
    Loop = fun L(0) -> ok; L(N) -> receive stop -> ok after ${intervalMs} -> Close(), L(N - 1) end end,
    register(${registered}, spawn(fun() -> Loop(${maxCloses}) end)), ok.`);
  return async () => {
    await evaluate(`catch ${registered} ! stop, ok.`);
  };
}

/**
 * Make the broker close the consumer channels of the connections named `name`, and only those
 * (the connection stays up): the broker is handed a basic.ack with a delivery tag it never issued
 * on each channel that has a consumer, and closes that channel with 406 PRECONDITION_FAILED.
 */
export async function closeOwnConsumerChannels(name: string): Promise<number> {
  return Number(
    await evaluate(`${mine(name)}
    Conns = [P || P <- rabbit_networking:connections(), Mine(P)],
    Info = fun(Ch, Key) -> proplists:get_value(Key, rabbit_channel:info(Ch, [Key])) end,
    length([rabbit_channel:do(Ch, {'basic.ack', 999999999, false}) || Ch <- rabbit_channel:list(), lists:member(Info(Ch, connection), Conns), Info(Ch, consumer_count) > 0]).`),
  );
}
