/**
 * Network isolation as computed connectivity: Network Config Analyzer (np-guard's `nca`, PyPI) computes who can
 * reach whom from the NetworkPolicies, and this module holds its connectivity map against the documented
 * expectation (oracles/connectivity.yaml): no tenant namespace reaches another, nothing reaches a tenant, and
 * a tenant's egress is exactly the allowlist.
 */
import { Finding } from './findings';

/** One connectivity rule as nca's JSON output gives it. */
export interface NcaRule {
  readonly src_ns?: string[];
  readonly src_pods?: string[];
  readonly src_ip_block?: string[];
  readonly dst_ns?: string[];
  readonly dst_ip_block?: string[];
  readonly connection: Array<string | { protocols: string; dst_ports?: Array<number | string> }>;
}

/** An allowed connection. */
export interface Connection {
  readonly protocols: string;
  readonly ports: number[];
}

/** An allowed egress destination and connection. */
export interface EgressRule {
  readonly to: { namespace?: string; ipBlock?: string; except?: string[] };
  readonly connection: Connection;
}

/**
 * The one source allowed into a tenant: pods of a namespace. nca names a group of pods by its workload's name or
 * by the labels that set it apart (`k=v and k2=v2`): either must agree with the expectation.
 */
export interface IngressRule {
  readonly from: { namespace: string; podLabels?: Record<string, string>; workloads?: string[] };
  readonly connection: Connection;
}

function sourceMatches(pods: string, rule: IngressRule): boolean {
  if (pods === '*') return false;
  if (!pods.includes('=')) return (rule.from.workloads ?? []).includes(pods);
  return pods.split(' and ').every((term) => {
    const [key, value] = term.split('=');
    return rule.from.podLabels?.[key] === value;
  });
}

/** The expectation file. */
export interface ConnectivityExpectation {
  readonly tenants: string[];
  readonly ingress?: IngressRule[];
  readonly egress: EgressRule[];
}

type Range = [number, number];

function cidrRange(cidr: string): Range {
  const [ip, bits] = cidr.split('/');
  const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits ?? 32));
  const start = Math.floor(n / size) * size;
  return [start, start + size - 1];
}

function merge(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function subtract(from: Range[], minus: Range[]): Range[] {
  let out = from;
  for (const [a, b] of minus) {
    out = out.flatMap(([x, y]): Range[] => {
      if (b < x || a > y) return [[x, y]];
      const parts: Range[] = [];
      if (a > x) parts.push([x, a - 1]);
      if (b < y) parts.push([b + 1, y]);
      return parts;
    });
  }
  return out;
}

/** The addresses an ipBlock-with-except covers, as merged ranges. */
export function blockRanges(cidr: string, except: string[] = []): Range[] {
  return merge(subtract([cidrRange(cidr)], except.map(cidrRange)));
}

function connectionText(c: NcaRule['connection']): string {
  return c.map((x) => (typeof x === 'string' ? x : `${x.protocols.split(/,\s*/).sort().join(',')} ${(x.dst_ports ?? ['all']).join(',')}`)).sort().join('; ');
}

function expectedText(e: { connection: Connection }): string {
  return `${e.connection.protocols.split(/,\s*/).sort().join(',')} ${e.connection.ports.join(',')}`;
}

/** Holds nca's connectivity rules against the expectation; each departure is a finding. */
export function checkConnectivity(rules: NcaRule[], expected: ConnectivityExpectation, app: string): Finding[] {
  const findings: Finding[] = [];
  const finding = (resource: string, check: string, message: string) => findings.push({ tool: 'netpol', check, app, resource, message });
  const tenants = new Set(expected.tenants);
  const egressToIps = new Map<string, Range[]>();
  const seen = new Set<string>();

  for (const rule of rules) {
    const from = (rule.src_ns ?? []).filter((ns) => tenants.has(ns));
    const into = (rule.dst_ns ?? []).filter((ns) => tenants.has(ns));
    const conn = connectionText(rule.connection);
    const source = rule.src_ns ? `namespaces ${rule.src_ns.join(',')} (workloads ${(rule.src_pods ?? []).join(',')})` : `addresses ${(rule.src_ip_block ?? []).join(',')}`;
    if (into.length > 0) {
      const allowed = (expected.ingress ?? []).find((e) =>
        rule.src_ns !== undefined && rule.src_ns.every((ns) => ns === e.from.namespace)
        && (rule.src_pods ?? ['*']).every((p) => sourceMatches(p, e)) && expectedText(e) === conn);
      for (const tenant of into) {
        const others = (rule.src_ns ?? []).filter((ns) => ns !== tenant && tenants.has(ns));
        if (others.length > 0) finding(tenant, 'cross-tenant', `other tenants (${others.join(',')}) reach ${tenant}: ${conn}`);
        else if (allowed) seen.add(JSON.stringify(allowed));
        else finding(tenant, 'ingress', `${source} reach ${tenant}: ${conn}`);
      }
    }
    if (from.length === 0) continue;
    const dstNs = rule.dst_ns;
    if (dstNs) {
      const allowed = expected.egress.find((e) =>
        e.to.namespace !== undefined && dstNs.every((ns) => ns === e.to.namespace) && expectedText(e) === conn);
      if (allowed) seen.add(JSON.stringify(allowed));
      else if (into.length === 0) finding(from.join(','), 'egress', `egress to namespaces ${dstNs.join(',')} (${conn}) is not in the allowlist`);
    }
    if (rule.dst_ip_block) {
      const allowed = expected.egress.find((e) => e.to.ipBlock !== undefined && expectedText(e) === conn);
      if (!allowed) {
        finding(from.join(','), 'egress', `egress to ${rule.dst_ip_block.length} address blocks (${conn}) is not in the allowlist`);
      } else {
        egressToIps.set(conn, [...(egressToIps.get(conn) ?? []), ...rule.dst_ip_block.map(cidrRange)]);
      }
    }
  }
  // Address egress, per connection: exactly the union of the allowlisted blocks with that connection.
  const byConnection = new Map<string, EgressRule[]>();
  for (const e of expected.egress.filter((r) => r.to.ipBlock !== undefined)) {
    byConnection.set(expectedText(e), [...(byConnection.get(expectedText(e)) ?? []), e]);
  }
  for (const [conn, list] of byConnection) {
    const want = merge(list.flatMap((e) => blockRanges(e.to.ipBlock!, e.to.except)));
    const got = merge(egressToIps.get(conn) ?? []);
    if (JSON.stringify(want) !== JSON.stringify(got)) {
      const blocks = list.map((e) => `${e.to.ipBlock} except ${(e.to.except ?? []).join(',') || 'nothing'}`).join('; ');
      finding(expected.tenants.join(','), 'egress', `egress ${conn} reaches other addresses than ${blocks}`);
    }
  }
  for (const e of expected.egress.filter((r) => r.to.namespace !== undefined)) {
    if (!seen.has(JSON.stringify(e))) {
      finding(expected.tenants.join(','), 'egress-missing', `the allowlisted egress to namespace ${e.to.namespace} (${expectedText(e)}) is not possible`);
    }
  }
  for (const e of expected.ingress ?? []) {
    if (!seen.has(JSON.stringify(e))) {
      finding(expected.tenants.join(','), 'ingress-missing', `the allowed path from ${e.from.namespace} (${JSON.stringify(e.from.podLabels ?? e.from.workloads)}) (${expectedText(e)}) does not reach the tenants`);
    }
  }
  return findings;
}
