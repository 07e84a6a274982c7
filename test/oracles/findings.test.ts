import { readFileSync } from 'fs';
import { join } from 'path';
import * as YAML from 'yaml';
import { REFERENCE_APPS } from '../../examples/ts/apps';
import { BaselineEntry, Finding, applyBaseline, parseCfnLint, parseCheckov, parseGuard, splitJsonStream, validateBaseline } from '../../oracles/lib/findings';
import { TEMPLATE_MUTANTS } from '../../oracles/lib/mutants';
import { synthHost } from '../util';

const APPS = ['single-host', 'budget'];
const finding = (over: Partial<Finding> = {}): Finding => ({ tool: 'checkov', check: 'CKV_AWS_18', app: 'single-host', resource: 'Logs1', message: 'm', ...over });
const entry = (over: Partial<BaselineEntry> = {}): BaselineEntry => ({
  tool: 'checkov', check: 'CKV_AWS_18', resource: 'Logs1', reason: 'a reason long enough to be checked by a reviewer', ...over,
});

describe('the oracle baseline', () => {
  test('a finding no entry accepts is unexpected', () => {
    const result = applyBaseline([finding({ check: 'CKV_AWS_24' })], [entry()], APPS);
    expect(result.unexpected).toHaveLength(1);
  });

  test('an entry that matches nothing any more is stale', () => {
    const result = applyBaseline([], [entry()], APPS);
    expect(result.stale).toEqual([{ entry: entry(), app: '(any)' }]);
  });

  test('an entry for named apps must match in each of them, and accepts nothing elsewhere', () => {
    const e = entry({ apps: ['single-host', 'budget'] });
    const result = applyBaseline([finding({ app: 'single-host' }), finding({ app: 'other' })], [e], [...APPS, 'other']);
    expect(result.stale).toEqual([{ entry: e, app: 'budget' }]);
    expect(result.unexpected.map((f) => f.app)).toEqual(['other']);
  });

  test('an entry with a message accepts only a finding with exactly that message', () => {
    const e = entry({ check: 'CKV_AWS_46', message: 'secrets: FINGERPRINT' });
    const result = applyBaseline([finding({ check: 'CKV_AWS_46', message: 'secrets: FINGERPRINT, AKIAEXAMPLE' })], [e], APPS);
    expect(result.unexpected).toHaveLength(1);
    expect(result.stale).toHaveLength(1);
  });

  test('entries without a reason, with a short one, with an unknown app or an unknown field are refused', () => {
    expect(() => validateBaseline([entry({ reason: '' })], APPS)).toThrow(/reason must be a non-empty string/);
    expect(() => validateBaseline([entry({ reason: 'because' })], APPS)).toThrow(/at least 40 characters/);
    expect(() => validateBaseline([entry({ apps: ['nope'] })], APPS)).toThrow(/unknown app 'nope'/);
    expect(() => validateBaseline([{ ...entry(), severity: 'low' }], APPS)).toThrow(/unknown field\(s\) severity/);
  });

  test('the committed baseline is valid for the reference apps and the rendered tenants', () => {
    const raw = YAML.parse(readFileSync(join(__dirname, '..', '..', 'oracles', 'baseline.yaml'), 'utf8'));
    const entries = validateBaseline(raw, [...REFERENCE_APPS.map((a) => a.name), 'k8s-sample']);
    expect(entries.length).toBeGreaterThan(0);
    // No two entries accept the same thing.
    const keys = entries.map((e) => `${e.tool} ${e.check} ${e.resource}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('reading the tools\' output', () => {
  test('cfn-lint: rule id and the resource from the location path', () => {
    const out = JSON.stringify([{ Rule: { Id: 'E3012' }, Location: { Path: ['Resources', 'Bucket1', 'Properties'] }, Message: 'bad type' }]);
    expect(parseCfnLint(out, 'a')).toEqual([{ tool: 'cfn-lint', check: 'E3012', app: 'a', resource: 'Bucket1', message: 'bad type' }]);
    expect(parseCfnLint('', 'a')).toEqual([]);
  });

  test('checkov: failed checks with the logical id, and the pass and fail counts', () => {
    const out = JSON.stringify({
      summary: { passed: 7, failed: 1 },
      results: { failed_checks: [{ check_id: 'CKV_AWS_24', resource: 'AWS::EC2::SecurityGroup.HostSg1', check_name: 'no SSH from anywhere' }] },
    });
    expect(parseCheckov(out, 'a')).toEqual({
      passed: 7, failed: 1, findings: [{ tool: 'checkov', check: 'CKV_AWS_24', app: 'a', resource: 'HostSg1', message: 'no SSH from anywhere' }],
    });
  });

  test('cfn-guard: a stream of documents, one finding per failing control and resource', () => {
    const fail = {
      status: 'FAIL',
      not_compliant: [{ Rule: { name: 's3_rule', messages: { custom_message: '[CT.S3.PR.2]: logging' }, checks: [{ path: '/Resources/B1/Properties' }, { path: '/Resources/B2' }] } }],
    };
    const out = `${JSON.stringify({ status: 'PASS', not_compliant: [] })}${JSON.stringify(fail)}\n${JSON.stringify({ status: 'SKIP', not_compliant: [] })}`;
    const parsed = parseGuard(out, 'a');
    expect({ pass: parsed.pass, fail: parsed.fail, skip: parsed.skip }).toEqual({ pass: 1, fail: 1, skip: 1 });
    expect(parsed.findings.map((f) => `${f.check} ${f.resource}`)).toEqual(['CT.S3.PR.2 B1', 'CT.S3.PR.2 B2']);
  });

  test('the JSON stream splitter is not fooled by braces inside strings', () => {
    expect(splitJsonStream('{"a":"}{"}{"b":1}')).toEqual([{ a: '}{' }, { b: 1 }]);
    expect(() => splitJsonStream('{"a":1')).toThrow(/ended inside/);
  });
});

describe('the template mutants the oracles must catch', () => {
  const { json } = synthHost();

  test.each(TEMPLATE_MUTANTS.map((m) => [m.name, m] as const))('%s changes the template and leaves the original alone', (_name, mutant) => {
    const before = JSON.stringify(json);
    const broken = mutant.apply(json);
    expect(JSON.stringify(json)).toBe(before);
    expect(JSON.stringify(broken)).not.toBe(before);
  });

  test('ssh-from-anywhere opens port 22 to the world on the host group', () => {
    const broken = TEMPLATE_MUTANTS.find((m) => m.name === 'ssh-from-anywhere')!.apply(json);
    const rules = Object.values(broken.Resources as Record<string, any>).flatMap((r) => r.Properties?.SecurityGroupIngress ?? []);
    expect(rules).toContainEqual(expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 22 }));
  });
});
