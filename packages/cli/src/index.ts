export { startFlower, type FlowerOptions, type FlowerServer } from './flower/server.js';
export { Monitor, type FlowerTask } from './flower/monitor.js';
export { loadApp, type AppSource } from './load-app.js';
export { benchTransport, type TransportResult, type TransportBenchOptions } from './bench/transport.js';
export { codecCases, type CodecRow, type CodecCase } from './bench/codecs.js';
export { EXIT } from './exit-codes.js';
