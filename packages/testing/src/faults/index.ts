/** The kill and chaos harnesses of the store-backed transports' fault tests (`@nori/testing/faults`). */
export { killConsumersEvery, type ChaosRun } from './chaos.js';
export { killConsumersWhileFlowing, type KillRun } from './kill-consumers.js';
export { streamFaultTests, type StreamFaultOptions } from './stream-fault-tests.js';
