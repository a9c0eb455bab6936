import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AndonError } from '../model/errors.ts';
import { fromRoot } from './package-root.ts';

/**
 * The command line's one description: every command's usage, options (with
 * their defaults), examples and exit codes. `andon --help`, `andon help <cmd>`
 * and `andon <cmd> --help` print it, and `parse()` reads argv with the same
 * option list, so the help cannot promise an option the parser refuses.
 */

/** One option of a command. */
export interface OptionSpec {
  name: string;
  short?: string;
  /** Placeholder of the value (`<file.yaml>`); a flag without one is a boolean. */
  arg?: string;
  /** Default when not given, as a person reads it. */
  default?: string;
  description: string;
}

/** One command: what `andon help <name>` prints. */
export interface CommandSpec {
  name: string;
  summary: string;
  usage: string[];
  description: string;
  options: OptionSpec[];
  /** Takes positional arguments (file names, sub-commands). */
  positionals?: boolean;
  examples: string[];
  exitCodes: [code: number, meaning: string][];
}

const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', description: 'Show this help.' };
const USAGE_EXIT: [number, string] = [2, 'usage error (ANDON_CLI_USAGE): unknown command or option, missing argument'];

export const COMMANDS: CommandSpec[] = [
  {
    name: 'start',
    summary: 'Run the gateway live; without --config, the demo plant and the gateway (npm start).',
    usage: ['andon start --config <file.yaml> [--port <n>]', 'andon start [--demo] [--port <n>]'],
    description:
      'With --config: the gateway itself (connectors, rules, ticket store, HTTP API and board, metrics, forwarding), until SIGINT or SIGTERM, which stop it cleanly (inputs first, then the store). ' +
      'SIGHUP reads the config file again and applies it without a restart (as POST /api/v1/admin/reload): a file with problems, or one that changes a key only a restart applies (gateway.http.*, gateway.dataDir...), is refused and logged, and the running config stays.\n' +
      'Without --config (this is `npm start`): the demo, a simulated packaging line (OPC UA, Modbus, MQTT, central) and the gateway with config/demo.yaml; it prints the board URL.',
    options: [
      { name: 'config', arg: '<file.yaml>', description: 'Config file (docs/config.md). Check it first with `andon check-config`.' },
      { name: 'port', arg: '<n>', default: 'gateway.http.port; demo: ANDON_PORT, else 8080 if free', description: 'HTTP port; 0 picks a free one.' },
      { name: 'demo', description: 'Run the demo plant and the gateway (the default without --config).' },
      HELP_OPTION,
    ],
    examples: ['npm start', 'andon start --config plant.yaml', 'ANDON_LOG_LEVEL=debug andon start --config plant.yaml --port 9080', 'kill -HUP <pid>   # reload plant.yaml'],
    exitCodes: [
      [0, 'stopped by SIGINT or SIGTERM'],
      [
        1,
        'the config is invalid (every problem is printed), or the gateway cannot start: a connector refuses its config (a TLS file), the port is in use (ANDON_HTTP_LISTEN), the store cannot be opened (ANDON_STORE_UNAVAILABLE) or is damaged (ANDON_STORE_CORRUPT). What had started is stopped again; "CODE: message" is on stderr',
      ],
      USAGE_EXIT,
    ],
  },
  {
    name: 'replay',
    summary: 'Replay recorded signals in virtual time and print the final tickets.',
    usage: ['andon replay --config <file.yaml> --input <records.jsonl> [--out <file.json>] [--db <file.sqlite>] [--verbose]'],
    description:
      "Reads one JSON record per line (a signal, or a person's action such as ack or resolve; contracts §Replay) and runs them through the same rules, engine and store as a live gateway, with time taken from the records: on-delays, silence and escalation timers fire as it passes. " +
      'Prints the final tickets as a JSON array, and a one-line summary on stderr. Lines that are not valid records are counted and skipped. On a terminal, a progress line (percent of the file, lines/s) shows while a large input runs.',
    options: [
      { name: 'config', arg: '<file.yaml>', description: 'Config to replay with (required).' },
      { name: 'input', arg: '<records.jsonl>', description: 'Records, one JSON object per line (required).' },
      { name: 'out', arg: '<file.json>', default: 'stdout', description: 'Write the tickets to this file.' },
      { name: 'db', arg: '<file.sqlite>', default: 'in memory', description: 'Keep the ticket store in this SQLite file.' },
      { name: 'verbose', description: 'Also print every refused action with its line number.' },
      HELP_OPTION,
    ],
    examples: [
      'andon replay --config test/scenarios/recurring-cause/config.yaml --input test/scenarios/recurring-cause/signals.jsonl',
      'andon replay --config plant.yaml --input last-month.jsonl --out tickets.json --db replay.sqlite',
    ],
    exitCodes: [
      [0, 'replayed (rejected lines and refused actions are counted in the summary, not failures)'],
      [1, 'the config is invalid, or the input cannot be read (ANDON_REPLAY_INPUT)'],
      USAGE_EXIT,
    ],
  },
  {
    name: 'check-config',
    summary: 'Validate a config file: every problem with its path and code.',
    usage: ['andon check-config <file.yaml>'],
    description:
      'Loads the file as `andon start` would (YAML, ${VAR} from the environment, schema, cross-references, action targets) and creates every source\'s connector without connecting (TLS and certificate files are read, node ids parsed), then prints every problem as "file: path: code: message", not only the first; or one "ok" line with counts. Codes: docs/errors.md#config.',
    options: [HELP_OPTION],
    positionals: true,
    examples: ['andon check-config plant.yaml', 'ANDON_OPERATOR_TOKEN=... andon check-config config/example.yaml'],
    exitCodes: [[0, 'the config is valid'], [1, 'the config has problems (all printed on stderr) or cannot be read'], USAGE_EXIT],
  },
  {
    name: 'backup',
    summary: 'Copy the ticket store to a file, consistently, also while the gateway runs.',
    usage: ['andon backup <file.sqlite> --config <file.yaml>', 'andon backup <file.sqlite> --db <andon.sqlite>'],
    description:
      "Copies the ticket store of the config's gateway.dataDir (or the file given with --db) to a new file with SQLite's online backup API: one consistent snapshot as of one commit, while a running gateway goes on writing. " +
      'The copy is checked (quick_check) before it gets its name, and it is one self-contained file (no -wal). Never overwrites. To restore: stop the gateway, move andon.sqlite, andon.sqlite-wal and andon.sqlite-shm aside, copy the backup to <dataDir>/andon.sqlite, start.',
    options: [
      { name: 'config', arg: '<file.yaml>', description: 'Config whose store (gateway.dataDir/andon.sqlite) to copy.' },
      { name: 'db', arg: '<andon.sqlite>', description: 'The store file to copy, instead of --config.' },
      HELP_OPTION,
    ],
    positionals: true,
    examples: ['andon backup /backup/andon-$(date +%F).sqlite --config plant.yaml', 'andon backup copy.sqlite --db data/andon.sqlite'],
    exitCodes: [
      [0, 'copied; one line with the ticket count and size on stderr'],
      [1, 'the store cannot be opened (ANDON_STORE_UNAVAILABLE), the file exists or the copy failed (ANDON_STORE_BACKUP_FAILED); nothing is left at the target'],
      USAGE_EXIT,
    ],
  },
  {
    name: 'outbox',
    summary: 'Show what waits to be forwarded to central, or un-park tickets central refused.',
    usage: ['andon outbox [--config <file.yaml>] [--parked] [--limit <n>]', 'andon outbox retry <ticket id> | --all [--config <file.yaml>]'],
    description:
      "Reads the ticket store of the config's gateway.dataDir (also while the gateway runs). Without a sub-command: pending and parked versions, the age of the oldest, and one line per ticket. " +
      "`retry` un-parks a ticket's refused versions (or all) so the forwarder sends them again; a running gateway picks them up within 30 s (POST /api/v1/outbox/:id/retry does it at once).",
    options: [
      { name: 'config', arg: '<file.yaml>', default: 'config/example.yaml', description: 'Config whose store to read.' },
      { name: 'parked', description: 'List what central refused, with its answer, instead of what is pending.' },
      { name: 'limit', arg: '<n>', default: '20', description: 'Tickets to list.' },
      { name: 'all', description: 'With retry: un-park every parked ticket.' },
      HELP_OPTION,
    ],
    positionals: true,
    examples: [
      'andon outbox --config plant.yaml',
      'andon outbox --config plant.yaml --parked',
      'andon outbox retry 01JH7Q2W5B8N3M4K6P9R0S1T2V --config plant.yaml',
    ],
    exitCodes: [
      [0, 'listed, or un-parked'],
      [1, 'the config is invalid, the store cannot be opened, or the ticket has nothing parked (ANDON_FORWARD_NOT_PARKED)'],
      USAGE_EXIT,
    ],
  },
  {
    name: 'browse',
    summary: 'Walk an OPC UA server: its variables and event notifiers, or a ready-to-paste tags/alarms block.',
    usage: [
      'andon browse <opc.tcp endpoint> [<pattern>] [--mode <mode>] [--policy <policy>] [--user <name> --password <pw>] [--tag-prefix <prefix>]',
      'andon browse --config <file.yaml> --source <id> [<pattern>]',
    ],
    description:
      'Connects as an OPC UA source would (the same security: mode, policy, user/password, the client certificate and trust lists under <data dir>/opcua/pki/<source id>) and walks the address space from the Objects folder along hierarchical references, at most --max-nodes nodes and --max-depth levels (it says so when it stopped early). ' +
      'Without a pattern it lists every variable (browse path, node id, data type) and event notifier (with the alarm conditions found under it; the Server object gets all). ' +
      'With a pattern (tag pattern syntax against browse paths: Sealer01/**, */Temperature) it prints a `tags:` / `alarms:` block for the matches, to paste under a `type: opcua` source (tag = <tag prefix>/<browse path>, asset = the notifier\'s name; arrays are left as comments). ' +
      'With --config and --source, endpoint, security and data dir come from that source of the config.',
    options: [
      { name: 'config', arg: '<file.yaml>', description: 'Take endpoint, security and gateway.dataDir from a config (with --source).' },
      { name: 'source', arg: '<id>', description: 'The OPC UA source of --config to connect as.' },
      { name: 'mode', arg: '<None|Sign|SignAndEncrypt>', default: 'None', description: 'Secure channel mode (security.mode).' },
      { name: 'policy', arg: '<policy>', default: 'Basic256Sha256 with Sign/SignAndEncrypt', description: 'Security policy (security.policy).' },
      { name: 'user', arg: '<name>', description: 'User-name identity (with --password); anonymous without.' },
      { name: 'password', arg: '<pw>', default: 'ANDON_OPCUA_PASSWORD', description: 'Password of --user; better from the environment variable than on the command line.' },
      { name: 'accept-unknown-server-certificate', description: 'Trust a server certificate seen for the first time (security.acceptUnknownServerCertificate).' },
      { name: 'data-dir', arg: '<dir>', default: './data', description: 'Where the client PKI lives (<dir>/opcua/pki/browse).' },
      { name: 'tag-prefix', arg: '<prefix>', description: 'Put this in front of the browse path in the tags of the snippet (`packaging`).' },
      { name: 'max-nodes', arg: '<n>', default: '10000', description: 'Stop the walk after this many nodes.' },
      { name: 'max-depth', arg: '<n>', default: '10', description: 'Do not walk deeper than this many levels below Objects.' },
      HELP_OPTION,
    ],
    positionals: true,
    examples: [
      'andon browse opc.tcp://plc.plant.local:4840',
      "andon browse opc.tcp://plc.plant.local:4840 'Sealer01/**' --tag-prefix packaging",
      "ANDON_OPCUA_PASSWORD=... andon browse opc.tcp://plc:4840 --mode SignAndEncrypt --user andon --accept-unknown-server-certificate",
      "andon browse --config plant.yaml --source packaging-plc '*/Temperature'",
    ],
    exitCodes: [
      [0, 'walked (also when a limit cut it short: the last line says so); the listing or the snippet is on stdout'],
      [1, 'the server cannot be reached or refused us (ANDON_OPCUA_CONNECT_FAILED, ANDON_OPCUA_ENDPOINT_INVALID, ANDON_OPCUA_CERTIFICATE_REJECTED, ANDON_OPCUA_USER_REJECTED), or the config is invalid'],
      USAGE_EXIT,
    ],
  },
  {
    name: 'nats',
    summary: 'Create the NATS JetStream streams a forward: { type: nats } gateway publishes to.',
    usage: ['andon nats init --config <file.yaml> [--replicas <n>] [--max-age <d>] [--max-bytes <n>] [--duplicate-window <d>] [--no-changes]'],
    description:
      "`init` connects to the config's forward.servers (with its credentials) and creates, or updates to these settings, the ticket stream (forward.stream, subjects <subjectPrefix>.>, every version kept, limits by age and size, de-duplication by Nats-Msg-Id) and the changes stream for sync back (forward.changesStream, andon.changes.>). " +
      'Running it again changes nothing. gateway/forward/nats/README.md says why each setting is what it is.',
    options: [
      { name: 'config', arg: '<file.yaml>', description: 'Config with forward: { type: nats }.' },
      { name: 'replicas', arg: '<n>', default: '3', description: 'Copies of each stream in the cluster (1, 3 or 5).' },
      { name: 'max-age', arg: '<d>', default: '30d', description: 'Versions older than this leave the ticket stream (the changes stream keeps 7d at most).' },
      { name: 'max-bytes', arg: '<n>', default: '-1 (none)', description: 'Size limit of the ticket stream; the oldest versions go first.' },
      { name: 'duplicate-window', arg: '<d>', default: '2h', description: 'A version sent again within this is dropped by the stream; longer than forward.backoff.max.' },
      { name: 'no-changes', description: 'Do not create the changes stream (no sync back).' },
      HELP_OPTION,
    ],
    positionals: true,
    examples: ['andon nats init --config plant.yaml', 'andon nats init --config plant.yaml --replicas 1   # a single test server'],
    exitCodes: [
      [0, 'the streams exist with these settings'],
      [1, 'the config is invalid, or the cluster cannot be reached or refused (the message says which)'],
      USAGE_EXIT,
    ],
  },
  {
    name: 'bridge',
    summary: 'Feed Request Tracker (or an http central) from the NATS stream of a fleet, at its own pace.',
    usage: ['andon bridge rt --nats <fleet.yaml> --config <rt.yaml> [--durable <name>] [--filter <subjects>]', 'andon bridge http --nats <fleet.yaml> --config <central.yaml>'],
    description:
      "Reads the ticket stream of fleet.yaml's forward (type nats) with a durable consumer and delivers each version, one at a time and in stream order, through the sink of the receiver config's forward (type rt or http): the same sink a gateway would use directly, so RT gets each ticket once and no version twice. " +
      'A version is acked after the receiver took it; one the receiver cannot take now is tried again (backoff) and holds the ones after it; one it refuses is logged and skipped. Runs until SIGINT or SIGTERM (gateway/forward/nats/README.md).',
    options: [
      { name: 'nats', arg: '<fleet.yaml>', description: 'Config with forward: { type: nats } (servers, credentials, stream).' },
      { name: 'config', arg: '<rt.yaml>', description: 'Config with forward: { type: rt } (or http): the receiver.' },
      { name: 'durable', arg: '<name>', default: '<type>-bridge', description: 'Name of the durable consumer: where this bridge has read up to, kept by the cluster.' },
      { name: 'filter', arg: '<subjects>', default: 'the whole stream', description: 'Only these subjects (a NATS subject filter: * is one whole token), e.g. andon.tickets.plant-a-line-1.>' },
      HELP_OPTION,
    ],
    positionals: true,
    examples: ['andon bridge rt --nats fleet.yaml --config rt.yaml', 'andon bridge rt --nats fleet.yaml --config rt.yaml --filter "andon.tickets.plant-b-line-1.>" --durable rt-plant-b-line-1'],
    exitCodes: [
      [0, 'stopped by SIGINT or SIGTERM'],
      [1, 'a config is invalid, or the stream cannot be consumed (missing, refused)'],
      USAGE_EXIT,
    ],
  },
];

const byName = new Map(COMMANDS.map((c) => [c.name, c]));
export const commandSpec = (name: string): CommandSpec | undefined => byName.get(name);

/** The package version (`andon --version`). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

const flag = (o: OptionSpec) => `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.arg ? ` ${o.arg}` : ''}`;

/** Wraps text to `width` columns, indenting every line. */
function wrap(text: string, indent: number, width = 100): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line && indent + line.length + 1 + word.length > width) {
        out.push(' '.repeat(indent) + line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(' '.repeat(indent) + line);
  }
  return out;
}

/** `andon --help`. */
export function mainHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length)) + 3;
  return [
    `andon ${version()} — plant signals in, tickets out`,
    '',
    'Usage: andon <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}${c.summary}`),
    `  ${'help'.padEnd(w)}Show the help of a command: andon help <command> (or andon <command> --help).`,
    '',
    'Usage of each command:',
    ...COMMANDS.flatMap((c) => c.usage.map((u) => `  ${u}`)),
    '',
    'Options:',
    '  -h, --help       Show this help.',
    '  -v, --version    Print the version.',
    '',
    'Exit codes: 0 done, 1 failed (the ANDON_* code and message are on stderr), 2 usage error.',
    'Docs: README.md, docs/config.md (config keys), docs/errors.md (error codes).',
  ].join('\n');
}

/** `andon help <command>` and `andon <command> --help`. */
export function commandHelp(c: CommandSpec): string {
  const w = Math.max(...c.options.map((o) => flag(o).length)) + 3;
  return [
    `andon ${c.name} — ${c.summary}`,
    '',
    'Usage:',
    ...c.usage.map((u) => `  ${u}`),
    '',
    ...wrap(c.description, 0),
    '',
    'Options:',
    ...c.options.flatMap((o) =>
      wrap(`${o.description}${o.default ? ` Default: ${o.default}.` : ''}`, w + 2).map((l, i) => (i === 0 ? `  ${flag(o).padEnd(w)}${l.trimStart()}` : l)),
    ),
    '',
    'Examples:',
    ...c.examples.map((e) => `  ${e}`),
    '',
    'Exit codes:',
    ...c.exitCodes.map(([code, meaning]) => `  ${code}  ${meaning}`),
  ].join('\n');
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] as number;
}

/** The closest candidate when it is close enough to be a typo. */
export function suggest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** A usage error (exit 2) with a hint: a suggestion when the word looks like a typo, and where the help is. */
export function usageError(message: string, command?: CommandSpec): AndonError {
  const hint = command
    ? `Usage:\n${command.usage.map((u) => `  ${u}`).join('\n')}\nRun \`andon ${command.name} --help\` for its options.`
    : `Commands: ${COMMANDS.map((c) => c.name).join(', ')}, help.\nRun \`andon --help\` for usage.`;
  return new AndonError('ANDON_CLI_USAGE', `${message}\n${hint}`);
}

/** An unknown command, with a suggestion. */
export function unknownCommand(name: string): AndonError {
  const near = suggest(name, [...COMMANDS.map((c) => c.name), 'help']);
  return usageError(`unknown command "${name}"${near ? `; did you mean "${near}"?` : ''}`);
}

type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

/**
 * Parses a command's argv with the options of its spec. Unknown options,
 * missing values and stray arguments become ANDON_CLI_USAGE with a hint.
 */
export function parse(c: CommandSpec, argv: string[]): Parsed {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const o of c.options) options[o.name] = { type: o.arg ? 'string' : 'boolean', ...(o.short ? { short: o.short } : {}) };
  try {
    return parseArgs({ args: argv, options, allowPositionals: c.positionals === true, strict: true }) as Parsed;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    const msg = (err as Error).message;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(msg)?.[1];
    if (unknown) {
      const near = suggest(
        unknown.replace(/^-+/, ''),
        c.options.map((o) => o.name),
      );
      throw usageError(`unknown option ${unknown} for ${c.name}${near ? `; did you mean --${near}?` : ''}`, c);
    }
    const missing = /Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(msg)?.[1];
    if (missing) throw usageError(`${missing} needs a value`, c);
    const positional = /Unexpected argument '([^']+)'/.exec(msg)?.[1];
    if (positional) throw usageError(`${c.name} takes no argument "${positional}"`, c);
    throw usageError(msg.split('\n')[0] ?? msg, c);
  }
}
