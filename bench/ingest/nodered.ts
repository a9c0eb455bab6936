/**
 * Consumer (c): Node-RED 4.1 (installed in bench/ingest/node_modules only),
 * headless (no editor, no admin API), running the flow that does what Andon's
 * rule does here:
 *
 *   mqtt in (QoS 1, json) → function "rules" (per-tag state, threshold with deadband)
 *     → function "count" (counts messages, raises, clears in global context)
 *   http in GET /stats → function → http response  (polled by run.ts)
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../connectors/mqtt/fixtures/brokers.ts';
import { MEASURES } from './plant.ts';
import { get, spawnLogged, stopChild, waitUntil } from './proc.ts';

const RED = fileURLToPath(new URL('./node_modules/node-red/red.js', import.meta.url));
export const CLIENT_ID = 'bench-nodered';

export const nodeRedInstalled = () => existsSync(RED);

const RULES = Object.fromEntries(MEASURES.map((m) => [m.name, { dir: m.dir, trip: m.trip, clear: m.clear }]));

/** The per-tag threshold state, as a Node-RED user writes it (context state, one Map of tags). */
const RULES_FUNC = `const rules = context.get('rules');
const active = context.get('active');
const p = msg.topic.split('/');
const tag = p[1] + '/' + p[2] + '/' + p[3];
const r = rules[p[3]];
const v = msg.payload && msg.payload.value;
msg.event = null;
if (r && typeof v === 'number') {
    if (!active.get(tag)) {
        if (r.dir === 'above' ? v > r.trip : v < r.trip) { active.set(tag, true); msg.event = 'raise'; }
    } else if (r.dir === 'above' ? v < r.clear : v > r.clear) { active.set(tag, false); msg.event = 'clear'; }
}
return msg;`;

const COUNT_FUNC = `const s = global.get('stats');
const t = Date.now();
if (s.count === 0) s.first = t;
s.count++;
s.last = t;
if (msg.event === 'raise') s.raises++;
else if (msg.event === 'clear') s.clears++;
return null;`;

function flows(mqttPort: number): unknown[] {
  const z = 'bench-tab';
  return [
    { id: z, type: 'tab', label: 'ingest bench', disabled: false, info: '' },
    {
      id: 'bench-broker',
      type: 'mqtt-broker',
      name: 'mosquitto',
      broker: '127.0.0.1',
      port: String(mqttPort),
      clientid: CLIENT_ID,
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      cleansession: true,
      autoUnsubscribe: true,
      birthTopic: '',
      closeTopic: '',
      willTopic: '',
    },
    {
      id: 'bench-in',
      type: 'mqtt in',
      z,
      name: 'plant',
      topic: 'plant/+/+/+',
      qos: '1',
      datatype: 'json',
      broker: 'bench-broker',
      nl: false,
      rap: true,
      rh: 0,
      inputs: 0,
      x: 100,
      y: 100,
      wires: [['bench-rules']],
    },
    {
      id: 'bench-rules',
      type: 'function',
      z,
      name: 'rules',
      func: RULES_FUNC,
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: `context.set('rules', ${JSON.stringify(RULES)});\ncontext.set('active', new Map());`,
      finalize: '',
      libs: [],
      x: 300,
      y: 100,
      wires: [['bench-count']],
    },
    {
      id: 'bench-count',
      type: 'function',
      z,
      name: 'count',
      func: COUNT_FUNC,
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: `global.set('stats', { count: 0, raises: 0, clears: 0, first: 0, last: 0 });`,
      finalize: '',
      libs: [],
      x: 500,
      y: 100,
      wires: [[]],
    },
    {
      id: 'bench-http-in',
      type: 'http in',
      z,
      name: '',
      url: '/stats',
      method: 'get',
      upload: false,
      swaggerDoc: '',
      x: 100,
      y: 200,
      wires: [['bench-stats']],
    },
    {
      id: 'bench-stats',
      type: 'function',
      z,
      name: 'stats',
      func: `msg.payload = global.get('stats');\nreturn msg;`,
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      x: 300,
      y: 200,
      wires: [['bench-http-out']],
    },
    { id: 'bench-http-out', type: 'http response', z, name: '', statusCode: '', headers: {}, x: 500, y: 200, wires: [] },
  ];
}

/** Headless: no editor or admin API, loopback only, no telemetry or update checks, warnings only. */
const settings = (port: number) => `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  httpAdminRoot: false,
  httpNodeRoot: '/',
  flowFile: 'flows.json',
  credentialSecret: false,
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  diagnostics: { enabled: false, ui: false },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  functionExternalModules: false,
  editorTheme: { tours: false },
};
`;

export interface NodeRedStats {
  count: number;
  raises: number;
  clears: number;
  /** Epoch ms (Date.now() inside the count node) of the first and last message counted. */
  first: number;
  last: number;
}

export interface NodeRedProcess {
  child: ChildProcess;
  pid: number;
  stats(): Promise<NodeRedStats | undefined>;
  stop(): Promise<void>;
}

/** Writes the user dir (settings.js, flows.json) and starts Node-RED; resolves once GET /stats answers. */
export async function startNodeRed(userDir: string, mqttPort: number): Promise<NodeRedProcess> {
  mkdirSync(userDir, { recursive: true });
  const port = await freePort();
  writeFileSync(join(userDir, 'settings.js'), settings(port));
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows(mqttPort), null, 2));
  const child = spawnLogged(
    process.execPath,
    [RED, '--userDir', userDir, '--settings', join(userDir, 'settings.js'), 'flows.json'],
    join(userDir, 'node-red.log'),
  );
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`node-red exited with ${code}; see ${join(userDir, 'node-red.log')}`))),
  );
  exited.catch(() => undefined);
  const stats = async () => {
    const text = await get(`http://127.0.0.1:${port}/stats`);
    return text === undefined ? undefined : (JSON.parse(text) as NodeRedStats);
  };
  await Promise.race([waitUntil(stats, 60_000, 'node-red GET /stats'), exited]);
  return { child, pid: child.pid as number, stats, stop: () => stopChild(child, 15_000) };
}
