import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateConfig } from '../../config/load.ts';
import { main } from '../../gateway/cli.ts';
import { tempDir } from './fixtures/harness.ts';
import { startPlantServer, type PlantServer } from './fixtures/server.ts';

/** `andon browse` against the node-opcua plant server (fixtures/server.ts), in this process. */
async function andon(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('andon browse', () => {
  const tmp = tempDir();
  let plant: PlantServer;
  let secure: PlantServer;
  const dataDir = () => join(tmp.dir, 'data');

  beforeAll(async () => {
    plant = await startPlantServer({ pkiDir: join(tmp.dir, 'plain') });
    secure = await startPlantServer({ pkiDir: join(tmp.dir, 'secure'), secureOnly: true, allowAnonymous: false, users: { operator: 's3cret' } });
  }, 60_000);
  afterAll(async () => {
    await plant?.stop();
    await secure?.stop();
    tmp.cleanup();
  });

  it('without a pattern lists every variable (path, node id, data type) and event notifier with its conditions', async () => {
    const r = await andon(['browse', plant.endpoint, '--data-dir', dataDir()]);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.trim().split(/\s{2,}/));
    expect(lines).toContainEqual(['Sealer01/State', 'ns=1;s=Sealer01.State', 'String']);
    expect(lines).toContainEqual(['Sealer01/Temperature', 'ns=1;s=Sealer01.Temperature', 'Double']);
    expect(lines).toContainEqual(['Sealer01/Counts', 'ns=1;s=Sealer01.Counts', 'Int32[]']);
    expect(lines).toContainEqual(['Andon/Red', 'ns=1;s=Andon.Red', 'Boolean']);
    expect(lines).toContainEqual(['Server', 'i=2253', 'conditions: E21 (AlarmConditionType, ns=1;s=Sealer01.E21)']);
    expect(lines).toContainEqual(['Sealer01', 'ns=1;s=Sealer01', 'conditions: E21 (AlarmConditionType, ns=1;s=Sealer01.E21)']);
    // condition fields and the Server object's diagnostics are not walked into
    expect(r.stdout).not.toContain('E21/EnabledState');
    expect(r.stdout).not.toContain('Server/ServerStatus');
    expect(r.stdout).toMatch(/^walked \d+ nodes \(limits: 10000 nodes, depth 10\)$/m);
  });

  it('with a pattern prints a tags/alarms block that validates as a source and names the nodes', async () => {
    const r = await andon(['browse', plant.endpoint, 'Sealer01/**', '--tag-prefix', 'packaging', '--data-dir', dataDir()]);
    expect(r.status).toBe(0);
    const block = parse(r.stdout) as { tags: { tag: string; nodeId: string }[]; alarms: { notifier: string; asset: string }[] };
    expect(block.tags).toEqual([
      { tag: 'packaging/Sealer01/State', nodeId: 'ns=1;s=Sealer01.State' },
      { tag: 'packaging/Sealer01/Temperature', nodeId: 'ns=1;s=Sealer01.Temperature' },
    ]);
    expect(r.stdout).toContain('# - { tag: "packaging/Sealer01/Counts", nodeId: "ns=1;s=Sealer01.Counts" } # Int32[]: an array, not a signal');
    expect(block.alarms).toEqual([{ notifier: 'ns=1;s=Sealer01', asset: 'Sealer01' }]);
    const { problems } = validateConfig({ gateway: { id: 'x' }, sources: [{ id: 'plc', type: 'opcua', endpoint: plant.endpoint, ...block }] });
    expect(problems).toEqual([]);
    expect((await andon(['browse', plant.endpoint, '*/Red', '--data-dir', dataDir()])).stdout.split('\n').slice(1)).toEqual([
      'tags:',
      '  - { tag: "Andon/Red", nodeId: "ns=1;s=Andon.Red" } # Boolean',
    ]);
  });

  it('stops at --max-nodes and --max-depth and says so', async () => {
    const few = await andon(['browse', plant.endpoint, '--max-nodes', '3', '--data-dir', dataDir()]);
    expect(few.status).toBe(0);
    expect(few.stdout).toMatch(/walked 3 nodes .*; CUT SHORT: node limit 3 reached \(--max-nodes\)$/);
    const shallow = await andon(['browse', plant.endpoint, '--max-depth', '1', '--data-dir', dataDir()]);
    expect(shallow.stdout).toContain('CUT SHORT: depth limit 1 reached (--max-depth)');
    expect(shallow.stdout).not.toContain('Sealer01/Temperature');
  });

  it('respects the security settings: a secure-only server with users needs them, and says what was refused', async () => {
    const anonymous = await andon(['browse', secure.endpoint, '--data-dir', dataDir()]);
    expect(anonymous.status).toBe(1);
    expect(anonymous.stderr).toMatch(/^ANDON_OPCUA_(ENDPOINT_INVALID|CONNECT_FAILED|USER_REJECTED|CERTIFICATE_REJECTED): /);
    const secureArgs = ['--mode', 'SignAndEncrypt', '--user', 'operator', '--accept-unknown-server-certificate', '--data-dir', dataDir()];
    const wrong = await andon(['browse', secure.endpoint, ...secureArgs, '--password', 'wrong']);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^ANDON_OPCUA_USER_REJECTED: /);
    const ok = await andon(['browse', secure.endpoint, 'Sealer01/Temperature', ...secureArgs, '--password', 's3cret']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('- { tag: "Sealer01/Temperature", nodeId: "ns=1;s=Sealer01.Temperature" } # Double');
  });

  it('takes endpoint and security from a config source, and refuses usage mistakes with exit 2', async () => {
    expect((await andon(['browse'])).status).toBe(2);
    expect((await andon(['browse', plant.endpoint, 'a//b'])).stderr).toMatch(/^ANDON_CLI_USAGE: pattern "a\/\/b" has an empty segment/);
    expect((await andon(['browse', plant.endpoint, '--max-nodes', 'lots'])).status).toBe(2);
    expect((await andon(['browse', secure.endpoint, '--mode', 'Sign', '--policy', 'None'])).stderr).toMatch(/^ANDON_CLI_USAGE: security.policy: /);
    const { writeFileSync } = await import('node:fs');
    const file = join(tmp.dir, 'plant.yaml');
    writeFileSync(
      file,
      `gateway: { id: x, dataDir: ${JSON.stringify(dataDir())} }\nsources:\n  - { id: plc, type: opcua, endpoint: "${secure.endpoint}", security: { mode: Sign, user: operator, password: s3cret, acceptUnknownServerCertificate: true } }\n`,
    );
    const r = await andon(['browse', '--config', file, '--source', 'plc', 'Andon/**']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('nodeId: "ns=1;s=Andon.Red"');
    expect((await andon(['browse', '--config', file, '--source', 'nope'])).stderr).toMatch(/^ANDON_CLI_USAGE: .* has no OPC UA source "nope" \(plc\)/);
  });
});
