import { AttributeIds, BrowseDirection, NodeClass, OPCUAClient, type ClientSession, type NodeId, type ReferenceDescription } from 'node-opcua-client';
import { compilePattern } from '../../config/pattern.ts';
import { AndonError } from '../../model/errors.ts';
import { classify, settle, within } from './classify.ts';
import { opcuaSourceSchema, type OpcuaSourceConfig } from './config.ts';
import { certificateManager, channelSecurity, userIdentity } from './security.ts';

/**
 * `andon browse`: walks an OPC UA server's address space from the Objects
 * folder (hierarchical references, forward) with the security of a source
 * config, and lists what a source can use: variables (node id, data type,
 * browse path) and event notifiers with the alarm conditions under them.
 * Bounded: at most `maxNodes` nodes and `maxDepth` levels; `cut` says when the
 * walk stopped early. The Server object is listed as a notifier but not
 * walked into (its diagnostics would fill the list), and neither are condition
 * instances (their fields are not signals).
 */
export interface BrowseOptions {
  /** The source to connect as: endpoint, security, id (its PKI folder under `dataDir`). */
  source: OpcuaSourceConfig;
  dataDir: string;
  maxNodes: number;
  maxDepth: number;
  /** Connect, session and each request, ms. */
  timeoutMs?: number;
}

export interface BrowsedVariable {
  /** Browse names from the Objects folder, joined with `/`. */
  path: string;
  nodeId: string;
  /** The data type's name (`Double`), with `[]` for arrays. */
  dataType: string;
  array: boolean;
}

export interface BrowsedNotifier {
  path: string;
  nodeId: string;
  conditions: { name: string; nodeId: string; type: string }[];
}

export interface BrowseResult {
  variables: BrowsedVariable[];
  notifiers: BrowsedNotifier[];
  walked: number;
  /** Why the walk stopped before the end (a limit), when it did. */
  cut: string | undefined;
}

const OBJECTS = 'i=85';
const SERVER = 'i=2253';
const HIERARCHICAL = 'i=33';
const HAS_SUBTYPE = 'i=45';
const CONDITION_TYPE = 'i=2782';
const BATCH = 100;
const OBJECT = NodeClass.Object as number;
const VARIABLE = NodeClass.Variable as number;
/** A node id as configs write it (`i=2253`, `ns=1;s=Sealer01`): node-opcua spells namespace 0 out. */
const idOf = (n: NodeId): string => n.toString().replace(/^ns=0;/, '');

/** A source config for `browse` from command-line security settings, checked by the source schema (same codes and rules). */
export function browseSource(endpoint: string, security: Record<string, unknown>, id = 'browse'): OpcuaSourceConfig {
  const parsed = opcuaSourceSchema.safeParse({ id, type: 'opcua', endpoint, security });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AndonError('ANDON_CLI_USAGE', `${issue?.path.join('.') || 'endpoint'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export async function browseServer(opts: BrowseOptions): Promise<BrowseResult> {
  const timeout = opts.timeoutMs ?? 15_000;
  const client = OPCUAClient.create({
    applicationName: 'Andon',
    clientName: `andon-browse-${opts.source.id}`,
    endpointMustExist: false,
    ...channelSecurity(opts.source.security),
    clientCertificateManager: certificateManager(opts.source, opts.dataDir),
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    keepSessionAlive: false,
  });
  const fail = (err: unknown): never => {
    const c = classify(err);
    throw new AndonError(c.code, `${opts.source.endpoint}: ${c.message}`, { cause: err });
  };
  let session: ClientSession | undefined;
  try {
    await within(client.connect(opts.source.endpoint), timeout, () => new Error('connect timed out')).catch(fail);
    session = await within(client.createSession(userIdentity(opts.source)), timeout, () => new Error('BadSession: createSession timed out')).catch(fail);
    return await walk(session, opts, timeout);
  } finally {
    if (session) await settle(session.close(true), 2000);
    await settle(client.disconnect(), 2000);
  }
}

interface Found {
  path: string;
  nodeId: NodeId;
  type: NodeId | undefined;
  depth: number;
}

async function walk(session: ClientSession, opts: BrowseOptions, timeout: number): Promise<BrowseResult> {
  const req = <T>(p: Promise<T>) => within(p, timeout, () => new Error('the server did not answer in time'));
  const seen = new Set<string>([OBJECTS]);
  const objects: Found[] = [];
  const variables: Found[] = [];
  const conditions: (Found & { typeName: string })[] = [];
  let cut: string | undefined;
  let level: { nodeId: string; path: string }[] = [{ nodeId: OBJECTS, path: '' }];
  const subtypeOfCondition = new Map<string, Promise<string | undefined>>();

  /** The condition type's name when `type` is ConditionType or a subtype of it (walking HasSubtype up), else undefined. */
  const conditionType = (type: NodeId): Promise<string | undefined> => {
    const key = idOf(type);
    let hit = subtypeOfCondition.get(key);
    if (!hit) {
      hit = (async () => {
        let at = type;
        for (let i = 0; i < 20; i++) {
          if (idOf(at) === CONDITION_TYPE) return ((await req(session.read({ nodeId: type, attributeId: AttributeIds.BrowseName }))).value.value as { name?: string } | null)?.name ?? key;
          const up = await req(session.browse({ nodeId: at, referenceTypeId: HAS_SUBTYPE, browseDirection: BrowseDirection.Inverse, includeSubtypes: false, resultMask: 63 }));
          const parent = up.references?.[0]?.nodeId;
          if (!parent) return undefined;
          at = parent;
        }
        return undefined;
      })();
      subtypeOfCondition.set(key, hit);
    }
    return hit;
  };

  for (let depth = 1; level.length > 0 && !cut; depth++) {
    if (depth > opts.maxDepth) {
      cut = `depth limit ${opts.maxDepth} reached (--max-depth)`;
      break;
    }
    const next: { nodeId: string; path: string }[] = [];
    for (let i = 0; i < level.length && !cut; i += BATCH) {
      const batch = level.slice(i, i + BATCH);
      const results = await req(
        session.browse(batch.map((n) => ({ nodeId: n.nodeId, referenceTypeId: HIERARCHICAL, includeSubtypes: true, browseDirection: BrowseDirection.Forward, nodeClassMask: 0, resultMask: 63 }))),
      );
      for (const [k, r] of results.entries()) {
        const refs: ReferenceDescription[] = [...(r.references ?? [])];
        let cp = r.continuationPoint;
        while (cp && cp.length > 0) {
          const more = await req(session.browseNext(cp, false));
          refs.push(...(more.references ?? []));
          cp = more.continuationPoint;
        }
        const parent = batch[k] as { nodeId: string; path: string };
        for (const ref of refs) {
          const id = idOf(ref.nodeId);
          if (seen.has(id)) continue;
          const cls = ref.nodeClass as number;
          if (cls !== OBJECT && cls !== VARIABLE) continue;
          if (seen.size >= opts.maxNodes) {
            cut = `node limit ${opts.maxNodes} reached (--max-nodes)`;
            break;
          }
          seen.add(id);
          const found: Found = {
            path: parent.path ? `${parent.path}/${ref.browseName.name ?? id}` : (ref.browseName.name ?? id),
            nodeId: ref.nodeId,
            type: ref.typeDefinition && !ref.typeDefinition.isEmpty() ? ref.typeDefinition : undefined,
            depth,
          };
          if (cls === VARIABLE) {
            variables.push(found);
            next.push({ nodeId: id, path: found.path });
            continue;
          }
          const condition = found.type ? await conditionType(found.type) : undefined;
          if (condition) conditions.push({ ...found, typeName: condition });
          else {
            objects.push(found);
            if (id !== SERVER) next.push({ nodeId: id, path: found.path });
          }
        }
        if (cut) break;
      }
    }
    level = next;
  }

  // Variables: data type and value rank; objects: their EventNotifier bits.
  const read = async (ids: NodeId[], attributeId: number) => {
    const out: unknown[] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const values = await req(session.read(ids.slice(i, i + BATCH).map((nodeId) => ({ nodeId, attributeId }))));
      out.push(...values.map((v) => v.value.value as unknown));
    }
    return out;
  };
  const types = (await read(variables.map((v) => v.nodeId), AttributeIds.DataType)) as (NodeId | null)[];
  const ranks = (await read(variables.map((v) => v.nodeId), AttributeIds.ValueRank)) as (number | null)[];
  const typeIds = [...new Map(types.filter((t): t is NodeId => !!t).map((t) => [idOf(t), t])).values()];
  const typeNames = new Map<string, string>();
  const names = await read(typeIds, AttributeIds.BrowseName);
  typeIds.forEach((t, i) => typeNames.set(idOf(t), (names[i] as { name?: string } | null)?.name ?? idOf(t)));
  const notifierBits = (await read(objects.map((o) => o.nodeId), AttributeIds.EventNotifier)) as (number | null)[];

  const vars: BrowsedVariable[] = variables.map((v, i) => {
    const t = types[i];
    const array = (ranks[i] ?? -1) >= 0 || (ranks[i] ?? -1) === -3 || (ranks[i] ?? -1) === -2;
    const name = t ? (typeNames.get(idOf(t)) ?? idOf(t)) : 'unknown';
    return { path: v.path, nodeId: idOf(v.nodeId), dataType: array ? `${name}[]` : name, array };
  });
  // The Server object gets every event (it is the root notifier); another notifier those of the conditions under it.
  const notifiers: BrowsedNotifier[] = objects
    .filter((o, i) => ((notifierBits[i] ?? 0) & 1) === 1 || idOf(o.nodeId) === SERVER)
    .map((o) => ({
      path: o.path,
      nodeId: idOf(o.nodeId),
      conditions: conditions
        .filter((c) => idOf(o.nodeId) === SERVER || c.path.startsWith(`${o.path}/`))
        .map((c) => ({ name: c.path.slice(c.path.lastIndexOf('/') + 1), nodeId: idOf(c.nodeId), type: c.typeName })),
    }));
  return { variables: vars, notifiers, walked: seen.size, cut };
}

/** What a pattern (tag pattern syntax, against browse paths) selects. */
export function select(result: BrowseResult, pattern: string): { variables: BrowsedVariable[]; notifiers: BrowsedNotifier[] } {
  const match = compilePattern(pattern);
  return { variables: result.variables.filter((v) => match(v.path)), notifiers: result.notifiers.filter((n) => match(n.path)) };
}

const q = (s: string) => JSON.stringify(s);

/**
 * A ready-to-paste `tags:` / `alarms:` block for an OPC UA source: a variable's
 * tag is `<prefix>/<browse path>`, a notifier's asset its browse name. Arrays
 * are left as comments (the connector takes scalars only).
 */
export function snippet(selected: { variables: BrowsedVariable[]; notifiers: BrowsedNotifier[] }, tagPrefix = ''): string {
  const tag = (path: string) => (tagPrefix ? `${tagPrefix.replace(/\/+$/, '')}/${path}` : path);
  const lines: string[] = [];
  const scalars = selected.variables.filter((v) => !v.array);
  if (scalars.length > 0 || selected.variables.length > 0) {
    lines.push('tags:');
    for (const v of selected.variables) {
      const entry = `- { tag: ${q(tag(v.path))}, nodeId: ${q(v.nodeId)} } # ${v.dataType}`;
      lines.push(v.array ? `  # ${entry}: an array, not a signal` : `  ${entry}`);
    }
  }
  if (selected.notifiers.length > 0) {
    lines.push('alarms:');
    for (const n of selected.notifiers) {
      const asset = n.path.slice(n.path.lastIndexOf('/') + 1);
      const conds = n.conditions.length ? n.conditions.map((c) => `${c.name} (${c.type})`).join(', ') : 'none found under it';
      lines.push(`  - { notifier: ${q(n.nodeId)}, asset: ${q(asset)} } # conditions: ${conds}`);
    }
  }
  return lines.join('\n');
}

/** The listing without a pattern: every variable and notifier, aligned, and how the walk ended. */
export function listing(result: BrowseResult, opts: { maxNodes: number; maxDepth: number }): string {
  const pad = (rows: string[][]) => {
    const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
    return rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  '));
  };
  const lines = [`variables (${result.variables.length}):`, ...pad(result.variables.map((v) => [v.path, v.nodeId, v.dataType]))];
  lines.push(
    `event notifiers (${result.notifiers.length}):`,
    ...pad(
      result.notifiers.map((n) => [
        n.path,
        n.nodeId,
        n.conditions.length ? `conditions: ${n.conditions.map((c) => `${c.name} (${c.type}, ${c.nodeId})`).join(', ')}` : 'conditions: none found under it',
      ]),
    ),
  );
  lines.push(`walked ${result.walked} nodes (limits: ${opts.maxNodes} nodes, depth ${opts.maxDepth})${result.cut ? `; CUT SHORT: ${result.cut}` : ''}`);
  return lines.join('\n');
}
