import type { Duplex } from 'node:stream';

/**
 * The most bytes of one socket read that mqtt.js parses at once (splitReads).
 * 8 KiB is ~100 small JSON messages.
 */
export const READ_SLICE = 8 * 1024;

/**
 * Hands a stream's reads on in slices of at most `max` bytes (views, not copies), in order.
 *
 * mqtt.js parses a whole read (64 KiB and more under load: ~900 small messages) into a queue of
 * packets, then works through them one per tick. Everything the parse made lives until its packet's
 * turn comes, across many scavenges, so V8 promotes it to the old generation, and with a small young
 * generation (gateway/heap.ts) the major GCs that follow were a third of the gateway's CPU at 50k msg/s.
 * In slices, the writable that mqtt.js pipes the socket into takes one slice at a time: the next is
 * parsed once the packets of the last are handled. The MQTT parser keeps a packet cut between two
 * slices, as it keeps one cut between two reads.
 */
export function splitReads<S extends Duplex>(stream: S, max = READ_SLICE): S {
  const emit = stream.emit.bind(stream);
  stream.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    const chunk = args[0];
    if (event !== 'data' || !(chunk instanceof Uint8Array) || chunk.length <= max) return emit(event, ...args);
    let listened = false;
    for (let at = 0; at < chunk.length; at += max) listened = emit('data', chunk.subarray(at, at + max)) || listened;
    return listened;
  }) as S['emit'];
  return stream;
}
