import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';

/**
 * The peer of bench:fleet: a bare nats.js JetStream publisher (no store, no outbox). `--connections`
 * connections, each with `--window` publishes in flight (as many gateways with forward.concurrency),
 * publish `--messages` copies of one ticket JSON with Nats-Msg-Id and JetStream acks.
 * Prints one JSON line: { messages, seconds, rate }.
 */
const { values } = parseArgs({
  options: { servers: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' }, subject: { type: 'string' }, template: { type: 'string' }, messages: { type: 'string' }, connections: { type: 'string' }, window: { type: 'string' } },
});
const total = Number(values.messages);
const conns = Number(values.connections);
const window = Number(values.window);
const payload = new TextEncoder().encode(values.template ?? '{}');
const ncs = await Promise.all(Array.from({ length: conns }, () => connect({ servers: (values.servers ?? '').split(','), user: values.user, pass: values.password })));
let next = 0;
const t0 = performance.now();
await Promise.all(
  ncs.flatMap((nc, c) => {
    const js = jetstream(nc);
    return Array.from({ length: window }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        await js.publish(`${values.subject}.bare-${c}.T${i}`, payload, { msgID: `bare-${i}:1`, timeout: 10_000 });
      }
    });
  }),
);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ messages: total, seconds, rate: total / seconds }) + '\n');
await Promise.all(ncs.map((nc) => nc.close()));
