/**
 * Type inference of typed messages: checked by `tsc -p tsconfig.checks.json` (expectTypeOf is a
 * compile-time assertion), and run by vitest so a broken declaration also fails there.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { Connection, type Consumer, type ConsumeIterator, type InferOutput, type Message, type SimpleQueue, type StandardSchemaV1 } from '@nori/core';

interface Order {
  id: number;
  sku: string;
}

const OrderSchema = z.object({ id: z.number(), sku: z.string(), placed: z.string().transform((s) => new Date(s)) });
type ParsedOrder = { id: number; sku: string; placed: Date };

describe('typed messages', () => {
  const conn = new Connection('memory://');

  it('a schema decides the body type: its output, transforms included', () => {
    expectTypeOf<InferOutput<typeof OrderSchema>>().toEqualTypeOf<ParsedOrder>();
    expectTypeOf(OrderSchema).toMatchTypeOf<StandardSchemaV1>();
    const consumer = conn.consumer(['orders'], { schema: OrderSchema, retry: { attempts: 3 } }, (message) => {
      expectTypeOf(message).toEqualTypeOf<Message<ParsedOrder>>();
      expectTypeOf(message.body).toEqualTypeOf<ParsedOrder>();
      expectTypeOf(message.body.placed).toEqualTypeOf<Date>();
    });
    expectTypeOf(consumer).toEqualTypeOf<Consumer<ParsedOrder>>();
  });

  it('without a schema the body type is declared, or unknown', () => {
    const typed = conn.consumer<Order>(['orders'], { prefetch: 5 }, (message) => {
      expectTypeOf(message.body).toEqualTypeOf<Order>();
    });
    expectTypeOf(typed).toEqualTypeOf<Consumer<Order>>();
    conn.consumer<Order>(['orders'], (message) => {
      expectTypeOf(message.body.sku).toEqualTypeOf<string>();
    });
    conn.consumer(['orders'], (message) => {
      expectTypeOf(message.body).toBeUnknown();
    });
    // A handler typed for another body does not fit.
    // @ts-expect-error Message<unknown> is not Message<Order>
    conn.consumer(['orders'], { schema: z.object({ other: z.boolean() }) }, (message: Message<Order>) => message.ack());
  });

  it('the async iterator and the simple queue carry the type', () => {
    expectTypeOf(conn.consume<Order>(['orders'])).toEqualTypeOf<ConsumeIterator<Order>>();
    expectTypeOf(conn.consume(['orders'], { schema: OrderSchema })).toEqualTypeOf<ConsumeIterator<ParsedOrder>>();
    const inbox = conn.simpleQueue<Order>('inbox');
    expectTypeOf(inbox).toEqualTypeOf<SimpleQueue<Order>>();
    expectTypeOf(inbox.get()).resolves.toEqualTypeOf<Message<Order>>();
    expectTypeOf(inbox.put).parameter(0).toEqualTypeOf<Order>();
    expectTypeOf(conn.simpleQueue('inbox', { schema: OrderSchema }).get()).resolves.toEqualTypeOf<Message<ParsedOrder>>();
  });

  it('publish<T> checks the body against T', () => {
    const producer = conn.producer();
    expectTypeOf(producer.publish<Order>)
      .parameter(0)
      .toEqualTypeOf<Order>();
    // @ts-expect-error sku is missing
    void producer.publish<Order>({ id: 1 }, { routingKey: 'orders' }).catch(() => undefined);
  });
});

describe("Connection's public type", () => {
  it('has no plumbing of Producer and Consumer on it', () => {
    expectTypeOf<Connection>().not.toHaveProperty('track');
    expectTypeOf<Connection>().not.toHaveProperty('untrack');
    expectTypeOf<Connection>().not.toHaveProperty('activeTransport');
    expectTypeOf<Connection>().not.toHaveProperty('isDeclared');
  });
});
