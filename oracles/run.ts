/**
 * test:oracles — tools nobody here wrote judge what the library emits.
 *
 * Over every reference app's template in cdk.out/ (from synth:examples): cfn-lint, checkov (CloudFormation
 * framework, nothing downloaded) and cfn-guard with the AWS Control Tower proactive-control rules. Every finding
 * must be accepted by oracles/baseline.yaml, and every baseline entry must still match a finding. Then the same
 * tools are shown deliberately broken templates (mutants), each of which must produce a finding the baseline
 * does not accept: a check that cannot fail proves nothing.
 *
 *   npx projen test:oracles                # after synth:examples
 *
 * The tools install themselves on first use: cfn-lint and checkov into a virtual environment under .tmp/oracles
 * (versions pinned in oracles/requirements.txt), cfn-guard and its rules from the npm dev dependency
 * @cdklabs/cdk-validator-cfnguard.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { BaselineEntry, Finding, applyBaseline, parseCfnLint, parseCheckov, parseGuard, validateBaseline } from './lib/findings';
import { IamMatrix, runIamMatrix } from './lib/iam';
import { MANIFEST_MUTANTS, documentNames, extractManifests, parseKubectlValidate, parsePss } from './lib/k8s';
import { TEMPLATE_MUTANTS } from './lib/mutants';
import { ConnectivityExpectation, checkConnectivity } from './lib/netpol';
import { bystanderYaml, routerYaml, sampleTenantYaml } from './lib/tenant-sample';
import { REFERENCE_APPS } from '../examples/ts/apps';

const root = path.resolve(__dirname, '..');
const work = path.join(root, '.tmp', 'oracles');
const started = Date.now();

function exec(cmd: string, args: string[], options: { okCodes?: number[] } = {}): string {
  const result = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  if (result.error) throw result.error;
  if (!(options.okCodes ?? [0]).includes(result.status ?? -1)) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}:\n${result.stderr}\n${result.stdout.slice(0, 2000)}`);
  }
  return result.stdout;
}

// ---- tools ----------------------------------------------------------------------------------------------------

const venv = path.join(work, 'venv');
const bin = (name: string) => path.join(venv, 'bin', name);
/** Network Config Analyzer lives in a virtual environment of its own: its pins differ from checkov's. */
const netpolVenv = path.join(work, 'netpol-venv');
function installPythonTools(): void {
  for (const [dir, file] of [[venv, 'requirements.txt'], [netpolVenv, 'requirements-netpol.txt']]) {
    const requirements = fs.readFileSync(path.join(__dirname, file), 'utf8');
    const stamp = path.join(dir, '.requirements.txt');
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === requirements) continue;
    console.log(`installing oracles/${file} into ${path.relative(root, dir)}`);
    fs.rmSync(dir, { recursive: true, force: true });
    exec('python3', ['-m', 'venv', dir]);
    exec(path.join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--no-input', '-r', path.join(__dirname, file)]);
    fs.writeFileSync(stamp, requirements);
  }
}

/** kubectl-validate (Go module proxy, pinned) and our Pod Security Standards evaluator, built into .tmp/oracles/bin. */
const KUBECTL_VALIDATE = 'sigs.k8s.io/kubectl-validate@v0.0.4';
/** The Kubernetes version whose built-in schemas kubectl-validate uses offline. */
const KUBERNETES_VERSION = '1.30';
const goBin = path.join(work, 'bin');
function installGoTools(): void {
  fs.mkdirSync(goBin, { recursive: true });
  const stamp = path.join(goBin, '.kubectl-validate');
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== KUBECTL_VALIDATE) {
    console.log(`installing ${KUBECTL_VALIDATE} into .tmp/oracles/bin (first run only)`);
    const r = spawnSync('go', ['install', KUBECTL_VALIDATE], { env: { ...process.env, GOBIN: goBin }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`go install ${KUBECTL_VALIDATE} failed:\n${r.stderr}`);
    fs.writeFileSync(stamp, KUBECTL_VALIDATE);
  }
  const r = spawnSync('go', ['build', '-o', path.join(goBin, 'pss'), '.'], { cwd: path.join(__dirname, 'pss'), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building oracles/pss failed:\n${r.stderr}`);
}

function guardPaths(): { binary: string; rules: string } {
  const pkg = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
  const os = process.platform === 'darwin' ? 'macos' : 'ubuntu';
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  return { binary: path.join(pkg, 'bin', os, arch, 'cfn-guard'), rules: path.join(pkg, 'rules', 'control-tower', 'cfn-guard') };
}

// ---- the template tools ---------------------------------------------------------------------------------------

/** Prints, per instance, the strings checkov's secret patterns match in its user data (checkov's own code). */
const USER_DATA_SECRETS = [
  'import json, sys',
  'from checkov.common.util.secrets import get_secrets_from_string, AWS, GENERAL',
  'template = json.load(open(sys.argv[1]))',
  'out = {}',
  'for logical_id, r in template["Resources"].items():',
  '    if r["Type"] == "AWS::EC2::Instance" and "UserData" in r.get("Properties", {}):',
  '        out[logical_id] = sorted(set(get_secrets_from_string(str(r["Properties"]["UserData"]), GENERAL, AWS)))',
  'print(json.dumps(out))',
].join('\n');

interface ToolStats { tool: string; ran: number; passed: number; findings: number }

async function checkTemplate(app: string, template: string): Promise<{ findings: Finding[]; stats: ToolStats[] }> {
  const stats: ToolStats[] = [];
  // cfn-lint exits 2 (errors), 4 (warnings), 6 (both), 8 (informational) with findings.
  const lint = parseCfnLint(exec(bin('cfn-lint'), ['--format', 'json', template], { okCodes: [0, 2, 4, 6, 8, 10, 12, 14] }), app);
  stats.push({ tool: 'cfn-lint', ran: 1, passed: lint.length === 0 ? 1 : 0, findings: lint.length });

  const checkov = parseCheckov(exec(bin('checkov'), ['--framework', 'cloudformation', '--skip-download', '--output', 'json', '--file', template], { okCodes: [0, 1] }), app);
  // checkov says only that user data holds "a secret": name what its patterns matched, so the baseline can pin it.
  if (checkov.findings.some((f) => f.check === 'CKV_AWS_46')) {
    const matched = JSON.parse(exec(bin('python'), ['-c', USER_DATA_SECRETS, template]));
    checkov.findings = checkov.findings.map((f) => (f.check === 'CKV_AWS_46' ? { ...f, message: `${f.message}: ${(matched[f.resource] ?? []).sort().join(', ')}` } : f));
  }
  stats.push({ tool: 'checkov', ran: checkov.passed + checkov.failed, passed: checkov.passed, findings: checkov.findings.length });

  const guard = guardPaths();
  // cfn-guard exits 19 when a rule fails.
  const guardOut = exec(guard.binary, ['validate', '--rules', guard.rules, '--data', template, '--output-format', 'json', '--show-summary', 'none'], { okCodes: [0, 19] });
  const g = parseGuard(guardOut, app);
  stats.push({ tool: 'cfn-guard', ran: g.pass + g.fail, passed: g.pass, findings: g.findings.length });

  // Roles live in the main stacks; nested stacks (tenants) hold no IAM policy of their own.
  const iam = template.endsWith('.nested.template.json') ? { findings: [], ran: 0 } : await runIamMatrix(JSON.parse(fs.readFileSync(template, 'utf8')), app, iamMatrix);
  stats.push({ tool: 'iam', ran: iam.ran, passed: iam.ran - iam.findings.filter((f) => f.check === 'decision' || f.check === 'invalid-request').length, findings: iam.findings.length });

  return { findings: [...lint, ...checkov.findings, ...g.findings, ...iam.findings], stats };
}

/** kubectl-validate (strict schema), checkov's Kubernetes framework and Pod Security "restricted" over manifest files. */
function checkManifests(app: string, files: string[]): { findings: Finding[]; stats: ToolStats[] } {
  const names = Object.fromEntries(files.map((f) => [f, documentNames(fs.readFileSync(f, 'utf8'))]));
  const validate = parseKubectlValidate(
    exec(path.join(goBin, 'kubectl-validate'), [...files, '--version', KUBERNETES_VERSION, '--output', 'json'], { okCodes: [0, 1] }), app, names);
  const checkov = parseCheckov(exec(bin('checkov'), ['--framework', 'kubernetes', '--skip-download', '--output', 'json', ...files.flatMap((f) => ['--file', f])], { okCodes: [0, 1] }), app);
  const pss = parsePss(exec(path.join(goBin, 'pss'), files), app);
  const pods = Object.values(names).flat().filter((n) => /^(Pod|Deployment|StatefulSet|DaemonSet|ReplicaSet|Job|CronJob)\//.test(n)).length;
  return {
    findings: [...validate.findings, ...checkov.findings, ...pss],
    stats: [
      { tool: 'kubectl-validate', ran: validate.ran, passed: validate.ran - new Set(validate.findings.map((f) => f.resource)).size, findings: validate.findings.length },
      { tool: 'checkov (k8s)', ran: checkov.passed + checkov.failed, passed: checkov.passed, findings: checkov.findings.length },
      { tool: 'pss restricted', ran: pods, passed: pods - new Set(pss.map((f) => f.resource)).size, findings: pss.length },
    ],
  };
}

/**
 * Computed connectivity: the rendered tenants (tenant-a, tenant-b) next to the router and a bystander, nca's
 * connectivity map, held against oracles/connectivity.yaml.
 */
function checkNetworkIsolation(app: string, files: string[]): { findings: Finding[]; stats: ToolStats[] } {
  const dir = path.join(work, 'netpol', app);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) fs.copyFileSync(f, path.join(dir, path.basename(f)));
  const out = path.join(dir, 'connectivity.json');
  exec(path.join(netpolVenv, 'bin', 'nca'), ['--connectivity', dir, '--resource_list', dir, '--output_format', 'json', '--file_out', out], { okCodes: [0, 1] });
  const rules = JSON.parse(fs.readFileSync(out, 'utf8'))[0].explanation[0].rules;
  const expected: ConnectivityExpectation = YAML.parse(fs.readFileSync(path.join(__dirname, 'connectivity.yaml'), 'utf8'));
  const findings = checkConnectivity(rules, expected, app);
  return { findings, stats: [{ tool: 'netpol (nca)', ran: rules.length, passed: rules.length - findings.length, findings: findings.length }] };
}

/** The rendered sample tenants, the router and a bystander, written where the tools read them. */
function sampleTenantFiles(): { tenantA: string; tenantB: string; router: string; bystander: string } {
  const dir = path.join(work, 'k8s-sample');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  return {
    tenantA: write('tenant-a.yaml', sampleTenantYaml('tenant-a')),
    tenantB: write('tenant-b.yaml', sampleTenantYaml('tenant-b')),
    router: write('router.yaml', routerYaml()),
    bystander: write('bystander.yaml', bystanderYaml()),
  };
}

/** The manifest sets: each app's own (from its templates) and the rendered sample tenants. */
function manifestSets(): Array<{ name: string; files: string[]; isolation?: string[] }> {
  const sets: Array<{ name: string; files: string[]; isolation?: string[] }> = [];
  const dir = path.join(work, 'manifests');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const app of REFERENCE_APPS.map((a) => a.name)) {
    const docs = stackTemplates(app).flatMap((t) => extractManifests(JSON.parse(fs.readFileSync(t, 'utf8')), { account: iamMatrix.account, region: iamMatrix.region }));
    if (docs.length === 0) continue;
    const file = path.join(dir, `${app}.yaml`);
    fs.writeFileSync(file, docs.map((d) => YAML.stringify(d)).join('---\n'));
    sets.push({ name: app, files: [file] });
  }
  const sample = sampleTenantFiles();
  sets.push({ name: 'k8s-sample', files: [sample.tenantA, sample.router], isolation: [sample.tenantA, sample.tenantB, sample.router, sample.bystander] });
  return sets;
}

function stackTemplates(app: string): string[] {
  const dir = path.join(root, 'cdk.out', app);
  if (!fs.existsSync(dir)) throw new Error(`no cdk.out/${app}: run npx projen synth:examples first (test:all does)`);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const stacks = Object.values(manifest.artifacts as Record<string, any>)
    .filter((a) => a.type === 'aws:cloudformation:stack')
    .map((a) => path.join(dir, a.properties.templateFile));
  // Nested stacks (the tenant platform's tenants) are assets of their parent, not artifacts: check them too.
  const nested = fs.readdirSync(dir).filter((f) => f.endsWith('.nested.template.json')).sort().map((f) => path.join(dir, f));
  return [...stacks, ...nested];
}

// ---- run ------------------------------------------------------------------------------------------------------

const iamMatrix: IamMatrix = YAML.parse(fs.readFileSync(path.join(__dirname, 'iam-matrix.yaml'), 'utf8'));

async function main(): Promise<void> {
  installPythonTools();
  installGoTools();
  const apps = REFERENCE_APPS.map((a) => a.name);
  const baseline: BaselineEntry[] = validateBaseline(YAML.parse(fs.readFileSync(path.join(__dirname, 'baseline.yaml'), 'utf8')), [...apps, 'k8s-sample']);

  const all: Finding[] = [];
  const rows: string[][] = [['app', 'tool', 'checks run', 'passed', 'findings', 'accepted by the baseline']];
  for (const app of apps) {
    const perTool = new Map<string, ToolStats>();
    const appFindings: Finding[] = [];
    for (const template of stackTemplates(app)) {
      const { findings, stats } = await checkTemplate(app, template);
      appFindings.push(...findings);
      for (const s of stats) {
        const prev = perTool.get(s.tool) ?? { tool: s.tool, ran: 0, passed: 0, findings: 0 };
        perTool.set(s.tool, { tool: s.tool, ran: prev.ran + s.ran, passed: prev.passed + s.passed, findings: prev.findings + s.findings });
      }
    }
    all.push(...appFindings);
    const accepted = applyBaseline(appFindings, baseline, [app]).accepted;
    for (const s of perTool.values()) {
      rows.push([app, s.tool, String(s.ran), String(s.passed), String(s.findings), String(accepted.filter((f) => f.tool === s.tool).length)]);
    }
  }

  const manifestSetNames: string[] = [];
  for (const set of manifestSets()) {
    manifestSetNames.push(set.name);
    const checked = checkManifests(set.name, set.files);
    const isolation = set.isolation ? checkNetworkIsolation(set.name, set.isolation) : { findings: [], stats: [] };
    const findings = [...checked.findings, ...isolation.findings];
    const stats = [...checked.stats, ...isolation.stats];
    all.push(...findings);
    const accepted = applyBaseline(findings, baseline, [set.name]).accepted;
    for (const s of stats) rows.push([set.name, s.tool, String(s.ran), String(s.passed), String(s.findings), String(accepted.filter((f) => f.tool === s.tool.split(' ')[0]).length)]);
  }

  const result = applyBaseline(all, baseline, [...apps, ...manifestSetNames]);
  printTable(rows);
  console.log(`\nbaseline: ${baseline.length} entries (oracles/baseline.yaml)`);
  let failed = false;
  for (const f of result.unexpected) {
    failed = true;
    console.error(`NEW FINDING  ${f.app}: ${f.tool} ${f.check} on ${f.resource}: ${f.message}`);
  }
  for (const s of result.stale) {
    failed = true;
    console.error(`STALE BASELINE ENTRY  ${s.entry.tool} ${s.entry.check} on ${s.entry.resource} (${s.app}): nothing matches it any more; remove it`);
  }

  // Mutants: each broken template must make the tools report something the baseline does not accept.
  const mutantRows: string[][] = [['mutant', 'new findings', 'examples']];
  const mutantDir = path.join(work, 'mutants');
  fs.rmSync(mutantDir, { recursive: true, force: true });
  fs.mkdirSync(mutantDir, { recursive: true });
  const [sourceTemplate] = stackTemplates('single-host');
  const original = JSON.parse(fs.readFileSync(sourceTemplate, 'utf8'));
  for (const mutant of TEMPLATE_MUTANTS) {
    const file = path.join(mutantDir, `${mutant.name}.template.json`);
    fs.writeFileSync(file, JSON.stringify(mutant.apply(original), null, 1));
    const { findings } = await checkTemplate('single-host', file);
    const caught = applyBaseline(findings, baseline, ['single-host']).unexpected;
    mutantRows.push([mutant.name, String(caught.length), caught.slice(0, 3).map((f) => `${f.tool} ${f.check}`).join(', ') || '-']);
    if (caught.length === 0) {
      failed = true;
      console.error(`MUTANT SURVIVED  ${mutant.name} (${mutant.description}): no tool reported it`);
    }
  }
  const sample = sampleTenantFiles();
  for (const mutant of MANIFEST_MUTANTS) {
    const dir = path.join(mutantDir, mutant.name);
    fs.mkdirSync(dir);
    const file = path.join(dir, 'tenant-a.yaml');
    fs.writeFileSync(file, mutant.apply(fs.readFileSync(sample.tenantA, 'utf8')));
    const findings = [...checkManifests('k8s-sample', [file]).findings, ...checkNetworkIsolation('k8s-sample-mutant', [file, sample.tenantB, sample.router, sample.bystander]).findings];
    const caught = applyBaseline(findings.map((f) => ({ ...f, app: 'k8s-sample' })), baseline, ['k8s-sample']).unexpected;
    mutantRows.push([mutant.name, String(caught.length), caught.slice(0, 3).map((f) => `${f.tool} ${f.check}`).join(', ') || '-']);
    if (caught.length === 0) {
      failed = true;
      console.error(`MUTANT SURVIVED  ${mutant.name} (${mutant.description}): no tool reported it`);
    }
  }
  console.log('');
  printTable(mutantRows);

  console.log(`\ntest:oracles took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (failed) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

function printTable(table: string[][]): void {
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(table[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  table.slice(1).forEach((r) => console.log(line(r)));
}
