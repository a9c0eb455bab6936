// The bare peer of `andon replay` as a whole process: read the file line by
// line (readline, as replay does) and JSON.parse every line; print the count.
//   node bench/replay/bare.mjs <records.jsonl>
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

let signals = 0;
for await (const line of createInterface({ input: createReadStream(process.argv[2]), crlfDelay: Infinity })) {
  if (line === '') continue;
  const o = JSON.parse(line);
  if (typeof o.tag === 'string') signals++;
}
process.stdout.write(`${signals}\n`);
