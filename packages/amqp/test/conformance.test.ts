import '@nori/amqp';
import { runConformance } from '@nori/testing';
import { AMQP_TRANSPORT_OPTIONS, AMQP_URL } from '@nori/testing/brokers';

runConformance({
  name: 'amqp',
  url: AMQP_URL,
  deadUrl: 'amqp://guest:guest@127.0.0.1:1//',
  childImports: ['@nori/amqp'],
  connectionOptions: { transportOptions: AMQP_TRANSPORT_OPTIONS },
});
