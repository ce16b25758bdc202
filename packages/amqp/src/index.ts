/**
 * @nori/amqp: RabbitMQ for nori over amqplib (`amqp://`, `amqps://`, and kombu's `pyamqp://`).
 * Importing it registers the schemes.
 */
import { registerTransport } from '@nori/core/spi';
import { createAmqpTransport } from './amqp-transport.js';

registerTransport(['amqp', 'amqps', 'pyamqp'], createAmqpTransport);

export { AmqpTransport, createAmqpTransport } from './amqp-transport.js';
export { connectOptions, amqpSettings, type AmqpSettings } from './amqp-options.js';
