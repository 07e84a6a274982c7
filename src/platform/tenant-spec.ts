/**
 * What a tenant is, checked without CDK: shared by the construct (at synth time) and by the provisioning function
 * (at run time), so a tenant the one accepts the other accepts too. Nothing here imports aws-cdk-lib.
 */

/** Tenant namespaces are `openclaw-<tenant>`. */
export const NAMESPACE_PREFIX = 'openclaw-';

/** The namespace of the platform's own workloads (the router); no tenant may take its name. */
export const SYSTEM_NAMESPACE = 'openclaw-system';

/** Longest tenant name: a namespace name is a DNS label of at most 63 characters. */
export const MAX_TENANT_NAME_LENGTH = 63 - NAMESPACE_PREFIX.length;

/** Tenant names that would collide with the platform's own namespaces or read as one. */
export const RESERVED_TENANT_NAMES = ['system', 'platform', 'router', 'admin', 'default'];

/** The tag of a gateway token naming its tenant's namespace: the tenant role reads only tokens whose tag is its own. */
export const TAG_TENANT_NAMESPACE = 'tenant-namespace';
/** The tag of a gateway token holding the tenant's monthly Bedrock budget in USD. */
export const TAG_BUDGET_USD = 'budget-usd';

/** The name prefix of every tenant's gateway-token secret. */
export const TENANT_SECRET_PREFIX = 'openclaw/';

/** Secrets Manager name of a tenant's gateway token. */
export function gatewayTokenSecretName(tenant: string): string {
  return `${TENANT_SECRET_PREFIX}${tenant}/gateway-token`;
}

/** The namespace of a tenant. */
export function tenantNamespace(tenant: string): string {
  return `${NAMESPACE_PREFIX}${tenant}`;
}

/** Bad input, naming the prop, the value and what is allowed. The construct prefixes its path. */
export class SpecError extends Error {
  constructor(public readonly prop: string, public readonly value: unknown, public readonly allowed: string) {
    super(`${prop} must be ${allowed}, got ${typeof value === 'string' ? `'${value}'` : JSON.stringify(value)}`);
    this.name = 'SpecError';
  }
}

/** The resources and budget of one tenant, fully defaulted. */
export interface TenantSpec {
  /** DNS label, at most {@link MAX_TENANT_NAME_LENGTH} characters. */
  readonly name: string;
  /** ResourceQuota `requests.cpu` and `limits.cpu` of the namespace (a Kubernetes quantity). */
  readonly cpu: string;
  /** ResourceQuota `requests.memory` and `limits.memory` of the namespace. */
  readonly memory: string;
  /** ResourceQuota `pods`. */
  readonly pods: number;
  /** Monthly Bedrock budget in US dollars (the secret's `budget-usd` tag). */
  readonly budgetUsd: number;
}

/** The gateway container's requests and limits (Kubernetes quantities). */
export interface GatewayResources {
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly cpuLimit: string;
  readonly memoryLimit: string;
}

/** Seed 001's per-tenant quota. */
export const DEFAULT_TENANT_QUOTA = { cpu: '4', memory: '8Gi', pods: 10 } as const;

/** Seed 001's monthly Bedrock budget per tenant, in US dollars. */
export const DEFAULT_BUDGET_USD = 100;

/** The gateway's requests and limits: room for two gateways (one rolling in) inside the default quota. */
export const DEFAULT_GATEWAY_RESOURCES: GatewayResources = { cpuRequest: '500m', memoryRequest: '1Gi', cpuLimit: '2', memoryLimit: '2Gi' };

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** True when `name` may name a tenant. */
export function isTenantName(name: string): boolean {
  return typeof name === 'string' && name.length <= MAX_TENANT_NAME_LENGTH && DNS_LABEL.test(name) && !RESERVED_TENANT_NAMES.includes(name);
}

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * The value of a non-negative Kubernetes quantity (`500m`, `2`, `8Gi`, `1e3`), or undefined when `q` is not one.
 */
export function parseQuantity(q: string): number | undefined {
  if (typeof q !== 'string') return undefined;
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const n = Number(m[1]);
  const s = m[2];
  if (s === undefined) return n;
  if (/^[eE]/.test(s)) return n * 10 ** Number(s.slice(1));
  return n * SUFFIX[s];
}

function quantity(prop: string, value: string, kind: 'cpu' | 'memory'): number {
  const n = parseQuantity(value);
  const example = kind === 'cpu' ? "'500m' or '2'" : "'512Mi' or '8Gi'";
  if (n === undefined || n <= 0) throw new SpecError(prop, value, `a positive Kubernetes quantity such as ${example}`);
  if (kind === 'memory' && n < 64 * 2 ** 20) throw new SpecError(prop, value, 'at least 64Mi (a gateway needs more than that)');
  if (kind === 'cpu' && n < 0.01) throw new SpecError(prop, value, 'at least 10m');
  return n;
}

/** Fails with a {@link SpecError} unless the tenant and the gateway resources are consistent and in range. */
export function validateTenantSpec(spec: TenantSpec, gateway: GatewayResources = DEFAULT_GATEWAY_RESOURCES): void {
  if (!isTenantName(spec.name)) {
    const allowed = RESERVED_TENANT_NAMES.includes(spec.name)
      ? `not one of the reserved names (${RESERVED_TENANT_NAMES.join(', ')})`
      : `a DNS label of lower-case letters, digits and '-' (starting and ending with a letter or digit), at most ${MAX_TENANT_NAME_LENGTH} characters so that '${NAMESPACE_PREFIX}<name>' fits in 63`;
    throw new SpecError('tenant name', spec.name, allowed);
  }
  const cpu = quantity(`tenant '${spec.name}' cpu`, spec.cpu, 'cpu');
  const memory = quantity(`tenant '${spec.name}' memory`, spec.memory, 'memory');
  if (!Number.isInteger(spec.pods) || spec.pods < 1 || spec.pods > 1000) {
    throw new SpecError(`tenant '${spec.name}' pods`, spec.pods, 'an integer from 1 to 1000');
  }
  if (typeof spec.budgetUsd !== 'number' || !Number.isFinite(spec.budgetUsd) || spec.budgetUsd <= 0 || spec.budgetUsd > 1_000_000) {
    throw new SpecError(`tenant '${spec.name}' budgetUsd`, spec.budgetUsd, 'a number of US dollars greater than 0 and at most 1000000');
  }
  const cpuRequest = quantity('gatewayResources.cpuRequest', gateway.cpuRequest, 'cpu');
  const cpuLimit = quantity('gatewayResources.cpuLimit', gateway.cpuLimit, 'cpu');
  const memoryRequest = quantity('gatewayResources.memoryRequest', gateway.memoryRequest, 'memory');
  const memoryLimit = quantity('gatewayResources.memoryLimit', gateway.memoryLimit, 'memory');
  if (cpuRequest > cpuLimit) throw new SpecError('gatewayResources.cpuRequest', gateway.cpuRequest, `at most cpuLimit (${gateway.cpuLimit})`);
  if (memoryRequest > memoryLimit) throw new SpecError('gatewayResources.memoryRequest', gateway.memoryRequest, `at most memoryLimit (${gateway.memoryLimit})`);
  // The quota must hold the gateway plus its one-shot init container's share, or the pod is never admitted.
  if (cpuLimit > cpu) throw new SpecError(`tenant '${spec.name}' cpu`, spec.cpu, `at least the gateway's cpuLimit (${gateway.cpuLimit})`);
  if (memoryLimit > memory) throw new SpecError(`tenant '${spec.name}' memory`, spec.memory, `at least the gateway's memoryLimit (${gateway.memoryLimit})`);
}

/** Memory in MiB (floor), for the Node.js heap ceiling. */
export function mebibytes(q: string): number {
  return Math.floor((parseQuantity(q) ?? 0) / 2 ** 20);
}
