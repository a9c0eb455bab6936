/**
 * `npm run bench:ingest -- --rss`: the memory of `andon start` with 10,000 live
 * tags. In this process: a node-opcua server with 5,000 Double variables that
 * all change every second, and a modbus-serial ServerTCP with 5,000 holding
 * registers that change every second. Andon (a child process) monitors the
 * 5,000 OPC UA variables (1 s sampling and publishing) and polls the 5,000
 * registers (1 s), with the bench plant's assets and rules. Once every item
 * and register has delivered, its RSS is sampled every second for `seconds`.
 */
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { ServerTCP } from 'modbus-serial';
import { DataType, nodesets, OPCUACertificateManager, OPCUAServer, type UAVariable } from 'node-opcua';
import { freePort, tempDir } from '../../connectors/mqtt/fixtures/brokers.ts';
import { rssConfig, metric, startAndon } from './andon.ts';
import { mulberry32, normal, tags, type Tag } from './plant.ts';
import { cpuSeconds, epoch, fmt, median, memory, printTable, sleep, waitUntil } from './proc.ts';

interface OpcuaPlant {
  endpoint: string;
  stop(): Promise<void>;
}

/** One Double variable per tag (`ns=1;s=<tag>`), all set to a new reading every second. */
async function startOpcua(pkiDir: string, list: Tag[]): Promise<OpcuaPlant> {
  const server = new OPCUAServer({
    port: await freePort(),
    host: '127.0.0.1',
    hostname: '127.0.0.1',
    resourcePath: '/UA/Bench',
    nodeset_filename: [nodesets.standard],
    serverCertificateManager: new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: true }),
  });
  await server.initialize();
  const as = server.engine.addressSpace;
  if (!as) throw new Error('no address space');
  const ns = as.getOwnNamespace();
  const folder = ns.addObject({ browseName: 'Plant', organizedBy: as.rootFolder.objects });
  const rnd = mulberry32(5);
  const vars: [UAVariable, Tag][] = list.map((t) => [
    ns.addVariable({
      componentOf: folder,
      browseName: t.tag,
      nodeId: `s=${t.tag}`,
      dataType: 'Double',
      value: { dataType: DataType.Double, value: normal(t.measure, rnd) },
    }),
    t,
  ]);
  const timer = setInterval(() => {
    for (const [v, t] of vars) v.setValueFromSource({ dataType: DataType.Double, value: normal(t.measure, rnd) });
  }, 1000);
  await server.start();
  return {
    endpoint: server.getEndpointUrl(),
    async stop() {
      clearInterval(timer);
      await server.shutdown(0);
    },
  };
}

/** Holding registers 0..n-1, raw = reading / scale (uint16), all new every second. */
async function startModbus(list: Tag[]): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const holding = new Uint16Array(list.length);
  const rnd = mulberry32(7);
  const update = () => list.forEach((t, i) => (holding[i] = Math.round(normal(t.measure, rnd) / t.measure.scale)));
  update();
  const timer = setInterval(update, 1000);
  const server = new ServerTCP(
    {
      getHoldingRegister: (addr: number) => holding[addr] ?? 0,
      getMultipleHoldingRegisters: (addr: number, n: number) => Array.from(holding.subarray(addr, addr + n)),
      getInputRegister: () => 0,
      getCoil: () => false,
      getDiscreteInput: () => false,
      setRegister: () => undefined,
      setCoil: () => undefined,
    },
    { host: '127.0.0.1', port, unitID: 1 },
  );
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', reject);
  });
  server.on('socketError', () => undefined);
  return {
    port,
    async stop() {
      clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function runRss(opts: { seconds: number; tags: number; keep: boolean; profileDir?: string }): Promise<void> {
  const wall = performance.now();
  const cpu = cpus();
  console.log(
    `andon ingest benchmark, RSS mode — node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const all = tags().tags.slice(0, opts.tags);
  const half = Math.ceil(all.length / 2);
  const [opcuaTags, modbusTags] = [all.slice(0, half), all.slice(half)];
  const tmp = tempDir('andon-ingest-rss-');
  const started = performance.now();
  const opcua = await startOpcua(join(tmp.dir, 'server-pki'), opcuaTags);
  const modbus = await startModbus(modbusTags);
  console.log(
    `peers: OPC UA ${opcua.endpoint} with ${fmt(opcuaTags.length)} variables, Modbus TCP 127.0.0.1:${modbus.port} with ${fmt(modbusTags.length)} holding registers (${fmt((performance.now() - started) / 1000, 1)} s)`,
  );
  let andon: Awaited<ReturnType<typeof startAndon>> | undefined;
  let failed = false;
  try {
    const t0 = performance.now();
    andon = await startAndon(
      tmp.dir,
      (port) =>
        rssConfig({
          dataDir: join(tmp.dir, 'data'),
          port,
          opcua: { endpoint: opcua.endpoint, items: opcuaTags.map((t) => ({ tag: t.tag, nodeId: `ns=1;s=${t.tag}` })) },
          modbus: { port: modbus.port, registers: modbusTags.map((t, i) => ({ tag: t.tag, address: i, scale: t.measure.scale })) },
        }),
      opts.profileDir ? { profileDir: opts.profileDir } : {},
    );
    const a = andon;
    // Every second: the child's VmRSS, and V8's used heap and major GC count from its /metrics.
    const samples: { t: number; rss: number; heap?: number; majorGcs?: number }[] = [];
    const sampler = setInterval(() => {
      const s: (typeof samples)[number] = { t: performance.now() - t0, rss: memory(a.pid).rss };
      samples.push(s);
      void a.metrics().then((text) => {
        if (!text) return;
        s.heap = metric(text, 'nodejs_heap_size_used_bytes') / 1048576;
        s.majorGcs = metric(text, 'nodejs_gc_duration_seconds_count', 'kind="major"');
      });
    }, 1000);
    const counts = async () => {
      const text = (await a.metrics()) ?? '';
      return { opcua: metric(text, 'andon_signals_total', 'source="plant-opcua"'), modbus: metric(text, 'andon_signals_total', 'source="plant-modbus"'), text };
    };
    // "Up": both sources report up and every item and register has delivered at least once.
    await waitUntil(
      async () => {
        const c = await counts();
        return c.opcua >= opcuaTags.length && c.modbus >= modbusTags.length && metric(c.text, 'andon_source_up', 'source="plant-opcua"') === 1 ? c : undefined;
      },
      180_000,
      'every OPC UA item and Modbus register to deliver',
      500,
    );
    const upAfter = (performance.now() - t0) / 1000;
    console.log(`andon: every item up ${fmt(upAfter, 1)} s after start (RSS then ${fmt(memory(a.pid).rss)} MiB); measuring for ${opts.seconds} s…`);
    const from = { ...(await counts()), at: epoch(), cpu: cpuSeconds(a.pid), self: process.cpuUsage() };
    const first = samples.length;
    await sleep(opts.seconds * 1000);
    const to = { ...(await counts()), at: epoch(), cpu: cpuSeconds(a.pid), self: process.cpuUsage(from.self) };
    clearInterval(sampler);
    const hwm = memory(a.pid).hwm;
    const window = samples.slice(first);
    const last30 = window.slice(-30).map((s) => s.rss);
    const secs = (to.at - from.at) / 1000;
    const opcuaRate = (to.opcua - from.opcua) / secs;
    const modbusRate = (to.modbus - from.modbus) / secs;
    const rejected = metric(to.text, 'andon_signals_rejected_total');
    const heaps = window.flatMap((s) => (s.heap === undefined ? [] : [s.heap]));
    const gcs = window.flatMap((s) => (s.majorGcs === undefined ? [] : [s.majorGcs]));
    console.log(`RSS every second from /readyz (MiB): ${samples.map((s) => fmt(s.rss)).join(' ')}`);
    console.log(`V8 heap used over the window (MiB): ${heaps.map((h) => fmt(h)).join(' ')}`);
    console.log('');
    printTable([
      ['', 'value'],
      [`tags (OPC UA monitored items + Modbus registers, 1 s)`, `${fmt(opcuaTags.length)} + ${fmt(modbusTags.length)}`],
      [`steady RSS (median of the last ${last30.length} s)`, `${fmt(median(last30))} MiB`],
      [
        'RSS median / max of every 1 s sample (peaks included; target max ≤ 150 MiB)',
        `${fmt(median(samples.map((s) => s.rss)))} / ${fmt(Math.max(...samples.map((s) => s.rss)))} MiB`,
      ],
      ['peak RSS (highest 1 s sample / VmHWM)', `${fmt(Math.max(...samples.map((s) => s.rss)))} / ${fmt(hwm)} MiB`],
      ['RSS range over the measured window', `${fmt(Math.min(...window.map((s) => s.rss)))}–${fmt(Math.max(...window.map((s) => s.rss)))} MiB`],
      ['RSS median over the whole window', `${fmt(median(window.map((s) => s.rss)))} MiB`],
      ['V8 heap used over the window (min–max)', `${fmt(Math.min(...heaps))}–${fmt(Math.max(...heaps))} MiB`],
      ['major GCs during the window', fmt((gcs[gcs.length - 1] ?? 0) - (gcs[0] ?? 0))],
      ['andon_signals_total rate (OPC UA + Modbus)', `${fmt(opcuaRate + modbusRate)}/s (${fmt(opcuaRate)} + ${fmt(modbusRate)})`],
      ['andon CPU over the window', `${fmt(((to.cpu - from.cpu) / secs) * 100)} % of one core`],
      ['bench process (both servers) CPU', `${fmt(((to.self.user + to.self.system) / 1e6 / secs) * 100)} % of one core`],
      ['time from start until every item delivered', `${fmt(upAfter, 1)} s`],
      ['signals rejected', fmt(rejected)],
    ]);
    console.log(`\nwall ${fmt((performance.now() - wall) / 1000, 1)} s`);
  } catch (err) {
    failed = true;
    console.log(`failed (${(err as Error).message}); logs kept in ${tmp.dir}`);
    throw err;
  } finally {
    await andon?.stop();
    await modbus.stop();
    await opcua.stop();
    if (!opts.keep && !failed) tmp.remove();
  }
}
