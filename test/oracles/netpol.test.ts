import { readFileSync } from 'fs';
import { join } from 'path';
import * as YAML from 'yaml';
import { ConnectivityExpectation, NcaRule, blockRanges, checkConnectivity } from '../../oracles/lib/netpol';

// Network Config Analyzer's connectivity map of two rendered tenants, the router and a bystander (recorded from a run).
const rules: NcaRule[] = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'nca-connectivity.json'), 'utf8'))[0].explanation[0].rules;
const ROUTER = 'app.kubernetes.io/name=openclaw-router';
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
    const cross: NcaRule = { src_ns: ['openclaw-tenant-b'], dst_ns: ['openclaw-tenant-a'], connection: ['All connections'] };
    expect(checkConnectivity([...rules, cross], expected, 'k')).toEqual([expect.objectContaining({ check: 'cross-tenant', resource: 'openclaw-tenant-a' })]);
  });

  test('anything but the router reaching a tenant is reported', () => {
    const ingress: NcaRule = { src_ns: ['kube-system'], dst_ns: ['openclaw-tenant-a'], connection: ['All connections'] };
    expect(checkConnectivity([...rules, ingress], expected, 'k')).toEqual([expect.objectContaining({ check: 'ingress', resource: 'openclaw-tenant-a' })]);
    const bystander: NcaRule = { src_ns: ['openclaw-system'], src_pods: ['bystander'], dst_ns: ['openclaw-tenant-a'], connection: [{ protocols: 'TCP', dst_ports: [18789] }] };
    expect(checkConnectivity([...rules, bystander], expected, 'k').map((f) => f.check)).toEqual(['ingress']);
    const wrongLabel: NcaRule = { src_ns: ['openclaw-system'], src_pods: ['app.kubernetes.io/name=openclaw-router and app.kubernetes.io/component=debug'], dst_ns: ['openclaw-tenant-a'], connection: [{ protocols: 'TCP', dst_ports: [18789] }] };
    expect(checkConnectivity([...rules, wrongLabel], expected, 'k').map((f) => f.check)).toEqual(['ingress']);
    const otherPort: NcaRule = { src_ns: ['openclaw-system'], src_pods: [ROUTER], dst_ns: ['openclaw-tenant-a'], connection: [{ protocols: 'TCP', dst_ports: [22] }] };
    expect(checkConnectivity([...rules, otherPort], expected, 'k').map((f) => f.check)).toEqual(['ingress']);
  });

  test('the router must reach the tenants on the gateway port', () => {
    const routerless = rules.filter((r) => !(r.src_ns?.includes('openclaw-system') && r.dst_ns?.includes('openclaw-tenant-a')));
    expect(checkConnectivity(routerless, expected, 'k').map((f) => f.check)).toEqual(['ingress-missing']);
  });

  test('egress beyond the allowlist, or to the VPC or metadata addresses, is reported', () => {
    const toSystem: NcaRule = { src_ns: ['openclaw-tenant-a'], dst_ns: ['kube-system'], connection: ['All connections'] };
    expect(checkConnectivity([...rules, toSystem], expected, 'k').map((f) => f.check)).toEqual(['egress']);
    const https = (r: NcaRule) => JSON.stringify(r.connection).includes('443');
    const widened = rules.map((r) => (r.dst_ip_block && https(r) ? { ...r, dst_ip_block: [...r.dst_ip_block, '169.254.169.254/32'] } : r));
    expect(checkConnectivity(widened, expected, 'k').map((f) => f.check)).toEqual(['egress']);
    const agentWidened = rules.map((r) => (r.dst_ip_block?.includes('169.254.170.23/32') ? { ...r, dst_ip_block: ['169.254.170.0/24'] } : r));
    expect(checkConnectivity(agentWidened, expected, 'k').map((f) => f.check)).toEqual(['egress']);
  });

  test('an allowlisted path that is no longer possible is reported', () => {
    const noDns = rules.filter((r) => !(r.dst_ns?.includes('kube-system') && r.src_ns?.includes('openclaw-tenant-a')));
    expect(checkConnectivity(noDns, expected, 'k').map((f) => f.check)).toEqual(['egress-missing']);
    const noAgent = rules.filter((r) => !r.dst_ip_block?.includes('169.254.170.23/32'));
    expect(checkConnectivity(noAgent, expected, 'k').map((f) => f.check)).toEqual(['egress']);
  });
});
