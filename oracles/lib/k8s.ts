/**
 * The Kubernetes side of the oracles: the manifests a template carries, and what kubectl-validate and the Pod
 * Security Standards evaluator (oracles/pss, the upstream k8s.io/pod-security-admission) say of them.
 */
import * as YAML from 'yaml';
import { Finding } from './findings';
import { Environment, resolveIntrinsics } from './intrinsics';

/** The resource types through which CDK applies manifests to an EKS cluster. */
const MANIFEST_TYPES = ['Custom::AWSCDK-EKS-KubernetesResource'];

/**
 * Every Kubernetes object a template applies: the `Manifest` property of each manifest resource is a JSON list of
 * objects, often joined from tokens (`Fn::Join`), resolved here as CloudFormation would.
 */
export function extractManifests(template: any, env: Environment): any[] {
  const out: any[] = [];
  for (const resource of Object.values((template.Resources ?? {}) as Record<string, any>)) {
    if (!MANIFEST_TYPES.includes(resource.Type)) continue;
    const text = resolveIntrinsics(resource.Properties.Manifest, template, env);
    const parsed = JSON.parse(text);
    out.push(...(Array.isArray(parsed) ? parsed : [parsed]));
  }
  return out;
}

/** `Kind/namespace/name` of each document of a manifest file, in order. */
export function documentNames(text: string): string[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((o) => o !== null && o !== undefined)
    .map((o: any) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`);
}

/** kubectl-validate's `--output json`: file → one status per document. */
export function parseKubectlValidate(output: string, app: string, namesByFile: Record<string, string[]>): { findings: Finding[]; ran: number } {
  const parsed = JSON.parse(output) as Record<string, any[]>;
  const findings: Finding[] = [];
  let ran = 0;
  for (const [file, statuses] of Object.entries(parsed)) {
    statuses.forEach((status, i) => {
      ran++;
      if (status.status === 'Success') return;
      const causes: any[] = status.details?.causes ?? [{ field: '', message: status.message }];
      for (const cause of causes) {
        findings.push({
          tool: 'kubectl-validate',
          check: cause.reason ?? status.reason ?? 'Invalid',
          app,
          resource: namesByFile[file]?.[i] ?? `${file}#${i}`,
          message: `${cause.field}: ${cause.message}`,
        });
      }
    });
  }
  return { findings, ran };
}

/** The pss command's JSON lines: one violation of the restricted level per line. */
export function parsePss(output: string, app: string): Finding[] {
  return output.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const v = JSON.parse(line);
    return { tool: 'pss', check: `restricted: ${v.check}`, app, resource: v.resource, message: v.message };
  });
}

/** Ways to break a tenant's manifests that the Kubernetes oracles must catch. */
export interface ManifestMutant {
  readonly name: string;
  readonly description: string;
  apply(text: string): string;
}

function replaceOrFail(text: string, from: RegExp, to: string): string {
  if (!from.test(text)) throw new Error(`the manifests have nothing matching ${from} to break`);
  return text.replace(from, to);
}

export const MANIFEST_MUTANTS: ManifestMutant[] = [
  {
    name: 'pod-as-root',
    description: 'the gateway pod runs as root',
    apply: (text) => replaceOrFail(replaceOrFail(text, /runAsNonRoot: true/g, 'runAsNonRoot: false'), /runAsUser: 1000/g, 'runAsUser: 0'),
  },
  {
    name: 'privilege-escalation',
    description: 'the gateway container may escalate privileges and keeps its capabilities',
    apply: (text) => replaceOrFail(replaceOrFail(text, /allowPrivilegeEscalation: false/g, 'allowPrivilegeEscalation: true'), /drop:\n\s+- ALL/g, 'drop: []'),
  },
  {
    name: 'cross-namespace-ingress',
    description: 'a NetworkPolicy admits traffic from every namespace of the cluster into the tenant',
    apply: (text) => `${text.trimEnd()}\n---\n${[
      'apiVersion: networking.k8s.io/v1',
      'kind: NetworkPolicy',
      'metadata:',
      '  name: allow-from-cluster',
      '  namespace: openclaw-tenant-a',
      'spec:',
      '  podSelector: {}',
      '  policyTypes: [Ingress]',
      '  ingress:',
      '    - from:',
      '        - namespaceSelector: {}',
    ].join('\n')}\n`,
  },
  {
    name: 'router-namespace-wide',
    description: "the ingress rule admits the router's whole namespace instead of the router's pods",
    apply: (text) => replaceOrFail(text, /\n {10}podSelector:\n {12}matchLabels:\n {14}app\.kubernetes\.io\/name: openclaw-router\n {14}app\.kubernetes\.io\/component: router/, ''),
  },
  {
    name: 'egress-to-vpc-and-metadata',
    description: 'the HTTPS egress rule stops excluding the VPC, the service range and link-local addresses (the metadata service)',
    apply: (text) => replaceOrFail(text, /except:\n\s+- 10\.0\.0\.0\/16\n\s+- 172\.20\.0\.0\/16\n\s+- 169\.254\.0\.0\/16/, 'except: []'),
  },
  {
    name: 'misspelt-field',
    description: 'a field the Kubernetes API does not know (a typo that would be silently dropped)',
    apply: (text) => replaceOrFail(text, /readOnlyRootFilesystem: true/, 'readOnlyRootFileSystem: true'),
  },
];
