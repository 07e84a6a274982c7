import { readFileSync } from 'fs';
import { join } from 'path';
import * as YAML from 'yaml';
import { ConnectivityExpectation, NcaRule, blockRanges, checkConnectivity } from '../../oracles/lib/netpol';

// Network Config Analyzer's connectivity map of the sample tenant instantiated twice (recorded from a run).
const rules: NcaRule[] = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'nca-connectivity.json'), 'utf8'))[0].explanation[0].rules;
const expected: ConnectivityExpectation = YAML.parse(readFileSync(join(__dirname, '..', '..', 'oracles', 'connectivity.yaml'), 'utf8'));

describe('network isolation, computed', () => {
  test('address arithmetic: a block minus its exceptions', () => {
    expect(blockRanges('10.0.0.0/8', ['10.0.0.0/16'])).toEqual([[167837696, 184549375]]);
    expect(blockRanges('0.0.0.0/0', ['169.254.169.254/32'])).toEqual([[0, 2852039165], [2852039167, 4294967295]]);
  });

  test('the sample tenants meet the documented expectation', () => {
    expect(checkConnectivity(rules, expected, 'k')).toEqual([]);
  });

  test('a tenant reaching another tenant is reported', () => {
    const cross: NcaRule = { src_ns: ['tenant-b'], dst_ns: ['tenant-a'], connection: ['All connections'] };
    expect(checkConnectivity([...rules, cross], expected, 'k')).toEqual([expect.objectContaining({ check: 'cross-tenant', resource: 'tenant-a' })]);
  });

  test('anything else reaching a tenant is reported', () => {
    const ingress: NcaRule = { src_ns: ['kube-system'], dst_ns: ['tenant-a'], connection: ['All connections'] };
    expect(checkConnectivity([...rules, ingress], expected, 'k')).toEqual([expect.objectContaining({ check: 'ingress', resource: 'tenant-a' })]);
  });

  test('egress beyond the allowlist, or to the VPC or metadata addresses, is reported', () => {
    const toSystem: NcaRule = { src_ns: ['tenant-a'], dst_ns: ['kube-system'], connection: ['All connections'] };
    expect(checkConnectivity([...rules, toSystem], expected, 'k').map((f) => f.check)).toEqual(['egress']);
    const widened = rules.map((r) => (r.dst_ip_block ? { ...r, dst_ip_block: [...r.dst_ip_block, '169.254.169.254/32'] } : r));
    expect(checkConnectivity(widened, expected, 'k').map((f) => f.check)).toEqual(['egress']);
  });

  test('an allowlisted path that is no longer possible is reported', () => {
    const noDns = rules.filter((r) => !(r.dst_ns?.includes('kube-system') && r.src_ns?.includes('tenant-a')));
    expect(checkConnectivity(noDns, expected, 'k').map((f) => f.check)).toEqual(['egress-missing']);
  });
});
