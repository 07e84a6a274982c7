import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { OpenClawTenantPlatform, OpenClawTenantPlatformProps } from '../../src/platform/platform';

interface Synthesized { platform: OpenClawTenantPlatform; templates: Array<{ file: string; resources: Record<string, any>; bytes: number }> }

function synthTenants(names: string[], props: OpenClawTenantPlatformProps = {}): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'openclaw-scale-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:disable-asset-staging': true } });
    const stack = new Stack(app, 'Test');
    const platform = new OpenClawTenantPlatform(stack, 'Platform', props);
    for (const n of names) platform.addTenant(n);
    app.synth();
    const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((file) => {
      const text = fs.readFileSync(path.join(outdir, file), 'utf8');
      return { file, resources: JSON.parse(text).Resources, bytes: Buffer.byteLength(text) };
    });
    return { platform, templates };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const names = (n: number, prefix = 'tenant') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
/** The nested stack (template file) holding a tenant's secret. */
const stackOf = (s: Synthesized, tenant: string) => s.templates.find((t) =>
  Object.values(t.resources).some((r: any) => r.Type === 'AWS::SecretsManager::Secret' && r.Properties.Name === `openclaw/${tenant}/gateway-token`))!.file;

describe('tenants at scale', () => {
  test('1,000 tenants: no stack over 500 resources or 1 MB, three resources per tenant, in nested stacks', () => {
    const big = synthTenants(names(1000));
    const main = big.templates.find((t) => t.file === 'Test.template.json')!;
    const nested = big.templates.filter((t) => t !== main);
    for (const t of big.templates) {
      expect(Object.keys(t.resources).length).toBeLessThanOrEqual(500);
      expect(t.bytes).toBeLessThan(1024 * 1024);
    }
    const tenantResources = nested.reduce((sum, t) => sum + Object.keys(t.resources).length, 0);
    expect(tenantResources).toBe(3000);
    // The main stack holds no tenant resource, only one nested stack per shard in use.
    const types = Object.values(main.resources).map((r: any) => r.Type);
    expect(types.filter((t) => t === 'AWS::SecretsManager::Secret' || t === 'AWS::EKS::PodIdentityAssociation')).toEqual([]);
    expect(types.filter((t) => t === 'AWS::CloudFormation::Stack')).toHaveLength(nested.length);
    expect(nested.length).toBeLessThanOrEqual(64);
  }, 120_000);

  test("a tenant's stack depends only on its name: adding or removing other tenants never moves it", () => {
    const alone = synthTenants(['acme']);
    const crowd = synthTenants([...names(60, 'other'), 'acme', ...names(60, 'late')]);
    const fewer = synthTenants([...names(10, 'other'), 'acme']);
    expect(stackOf(crowd, 'acme')).toBe(stackOf(alone, 'acme'));
    expect(stackOf(fewer, 'acme')).toBe(stackOf(alone, 'acme'));
    // ...and its logical ids inside that stack do not change either.
    const ids = (s: Synthesized) => Object.keys(s.templates.find((t) => t.file === stackOf(s, 'acme'))!.resources).filter((id) => /Tenantacme/.test(id)).sort();
    expect(ids(crowd)).toEqual(ids(alone));
    expect(ids(alone)).toHaveLength(3);
  });

  test('a stack that would hold more than 40 tenants fails at synth, naming tenantStacks', () => {
    expect(() => synthTenants(names(41), { tenantStacks: 1 })).toThrow(
      /Test\/Platform: tenantStacks must be more stacks: tenant 'tenant-40' would be tenant 41 of stack Tenants0, over its 40 \(template size\)/);
    expect(() => synthTenants(names(40), { tenantStacks: 1 })).not.toThrow();
  });

  test('tenantStacks out of range fails at synth', () => {
    expect(() => synthTenants([], { tenantStacks: 0 })).toThrow(/tenantStacks must be an integer from 1 to 400, got 0/);
  });
});
