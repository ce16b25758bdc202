// The App options of tasks-app.mjs and send-task.cjs: broker and result backend, queue, and the
// run's own mailbox and event exchange (cleanup.mjs deletes them), from check-packages.sh.
/* global module */
module.exports = {
  broker: process.env.NORI_CHECK_BROKER,
  backend: process.env.NORI_CHECK_BROKER,
  defaultQueue: process.env.NORI_CHECK_QUEUE,
  controlExchange: process.env.NORI_CHECK_CONTROL_EXCHANGE,
  eventExchange: process.env.NORI_CHECK_EVENT_EXCHANGE,
  resultExpires: 60_000,
};
