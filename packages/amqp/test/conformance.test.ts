import '@nori/amqp';
import { runConformance } from '@nori/testing';

runConformance({
  name: 'amqp',
  url: 'amqp://guest:guest@127.0.0.1:5672//',
  deadUrl: 'amqp://guest:guest@127.0.0.1:1//',
  childImports: ['@nori/amqp'],
});
