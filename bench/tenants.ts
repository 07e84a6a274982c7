/**
 * Scale of OpenClawTenantPlatform with tenants declared in code: synth time per tenant at 10, 100 and 1,000 tenants
 * (as a ratio to the time per tenant at 10, measured in one run), CloudFormation resources added per tenant, and
 * the largest stack (resources, bytes) against CloudFormation's limits (500 resources, 1 MB template).
 *
 *   npx projen bench:tenants           # --rounds=N (default 3) for the 10- and 100-tenant runs; 1,000 runs once
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { OpenClawTenantPlatform } from '../src/platform/platform';

const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
const rounds = roundsArg ? Number(roundsArg.split('=')[1]) : 3;

interface Run {
  readonly ms: number;
  readonly resources: number;
  readonly tenantResources: number;
  readonly maxResources: number;
  readonly maxBytes: number;
  readonly stacks: number;
}

function synth(tenants: number): Run {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'openclaw-bench-tenants-'));
  try {
    const start = process.hrtime.bigint();
    const app = new App({ outdir, context: { 'aws:cdk:disable-asset-staging': true } });
    const stack = new Stack(app, 'Platform');
    const platform = new OpenClawTenantPlatform(stack, 'Platform');
    for (let i = 0; i < tenants; i++) platform.addTenant(`tenant-${i}`);
    app.synth();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    let resources = 0;
    let tenantResources = 0;
    let maxResources = 0;
    let maxBytes = 0;
    const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
    for (const file of templates) {
      const text = fs.readFileSync(path.join(outdir, file), 'utf8');
      const count = Object.keys(JSON.parse(text).Resources).length;
      resources += count;
      if (file.includes('nested')) tenantResources += count;
      maxResources = Math.max(maxResources, count);
      maxBytes = Math.max(maxBytes, Buffer.byteLength(text));
    }
    return { ms, resources, tenantResources, maxResources, maxBytes, stacks: templates.length };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function median(tenants: number, n: number): Run {
  const runs = Array.from({ length: n }, () => synth(tenants)).sort((a, b) => a.ms - b.ms);
  return runs[Math.floor(runs.length / 2)];
}

synth(10); // warm-up: module loading and JIT
const empty = median(0, rounds);
const results = [10, 100, 1000].map((n) => ({ n, run: median(n, n === 1000 ? 1 : rounds) }));
const perTenant = (r: { n: number; run: Run }) => (r.run.ms - empty.ms) / r.n;
const base = perTenant(results[0]);
console.log(`platform without tenants: ${empty.resources} resources, ${empty.ms.toFixed(0)} ms on this machine`);
console.log('tenants  synth time per tenant (ratio to 10)  resources per tenant  stacks  largest stack (resources / KB)');
let failed = false;
for (const r of results) {
  const added = r.run.resources - empty.resources;
  console.log(`${String(r.n).padStart(7)}  ${(perTenant(r) / base).toFixed(2).padStart(34)}x  ${(r.run.tenantResources / r.n).toFixed(2).padStart(20)}  ${String(r.run.stacks).padStart(6)}  ${r.run.maxResources} / ${(r.run.maxBytes / 1024).toFixed(0)}`);
  if (r.run.maxResources > 500 || r.run.maxBytes > 1024 * 1024) failed = true;
  if (r.run.tenantResources / r.n > 4 || added / r.n > 4 + 1) failed = true;
}
if (failed) {
  console.error('a stack is over 500 resources or 1 MB, or a tenant adds more than 4 resources');
  process.exit(1);
}
