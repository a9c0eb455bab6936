// The entry point as it was before issue 14 (bin/andon.js registered tsx and imported the
// TypeScript sources): bench/startup/run.ts starts it as "tsx", next to today's bin/andon.js.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../../gateway/cli.ts');
process.exitCode = await main(process.argv.slice(2));
