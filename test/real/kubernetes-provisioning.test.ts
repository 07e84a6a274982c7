/**
 * Self-service provisioning against a REAL Kubernetes API server (etcd, kube-apiserver and kube-controller-manager
 * v1.35, see support/kubernetes.ts), not the in-memory cluster of the unit tests:
 *
 * - the platform's deployment applies, as cluster administrator, what OpenClawTenantPlatform applies: the system
 *   namespace, the storage class, the router and the provisioner's ClusterRole, binding and admission policy;
 * - the provisioning handler (provision.ts's `createHandler`) runs with the library's own cluster client
 *   (kube-client.ts, TLS pinned to the cluster CA) authenticated as the provisioner's access entry maps it (its
 *   Kubernetes group `openclaw:provisioners`), with in-memory AWS fakes for Cognito, DynamoDB, Secrets Manager and
 *   EKS Pod Identity (the AWS side is not what this file proves);
 * - RBAC, the ValidatingAdmissionPolicy, Pod Security `restricted`, the ResourceQuota, the LimitRange and the
 *   controllers (ReplicaSets, Pods, quota usage, namespace deletion) are the API server's and controller manager's own.
 *
 * NetworkPolicies are only stored (no network plugin): the real server's validation accepts them, connectivity stays a
 * computed check (oracles). No scheduler or kubelet: Pods are created and admitted, and stay Pending.
 */
import { createHash } from 'crypto';
import { Readable } from 'stream';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KubernetesControlPlane, PROVISIONER_IDENTITY, applyAsPlatform, eventually, objectPath, refOf } from './support/kubernetes';
import { samplePlatform } from '../../oracles/lib/tenant-sample';
import { PLATFORM_NAMESPACE_OBJECTS, storageClass } from '../../src/platform/cluster-objects';
import { ROUTER_POD_LABELS, renderRouter } from '../../src/platform/router-manifests';
import { DEPROVISION_FIELD_MANAGER, FIELD_MANAGER, Kube, KubeError, PROVISIONER_GROUP, ROTATION_FIELD_MANAGER, TOKEN_VERSION_ANNOTATION, tenantKey, userKey } from '../../src/platform/self-service/contract';
import { DeprovisionDeps, deprovision } from '../../src/platform/self-service/deprovision';
import { exportPrefix, manifestKeyOf } from '../../src/platform/self-service/export';
import { gatewayDeploymentPatch, gatewayDeploymentRef } from '../../src/platform/self-service/gateway-deployment';
import { KubeClient } from '../../src/platform/self-service/kube-client';
import { createHandler, provisionConfigFromEnvironment } from '../../src/platform/self-service/provision';
import { PROVISIONER_POLICY, provisionerRbacObjects } from '../../src/platform/self-service/provisioner-rbac';
import { GATEWAY_POD_LABELS, GATEWAY_PORT, RenderedTenant, renderTenant } from '../../src/platform/tenant-manifests';
import { DEFAULT_GATEWAY_RESOURCES, SYSTEM_NAMESPACE } from '../../src/platform/tenant-spec';
import { FakeCognito, FakeDynamoDB, FakeEks, FakeOperations, FakeSecretsManager } from '../platform/self-service/fake-aws';

const TABLE = 'tenants';
const POOL = 'us-east-1_AbCdEf123';
const USER = '8d3e6c8a-6f0e-4b55-9d61-1a2b3c4d5e6f';
const CLUSTER = 'openclaw';
const ACCOUNT = '111122223333';
const BUCKET = 'openclaw-exports';
const PLATFORM = samplePlatform();
const DEFAULTS = { cpu: '4', memory: '8Gi', pods: 10, budgetUsd: 75 };
const ROUTER = { image: 'public.ecr.aws/nginx/nginx-unprivileged:1.30.4-alpine', vpcCidr: PLATFORM.vpcCidr, replicas: 2, clusterDnsIp: PLATFORM.clusterDnsIp };

// ------------------------------------------------------------------------------------------------------------------
// The AWS side, in memory: real SDK clients whose requests a middleware answers from the fakes (before signing and
// the network), so the handlers run unchanged.
// ------------------------------------------------------------------------------------------------------------------

const CLIENT_CONFIG = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

function inMemory<C extends { middlewareStack: unknown }>(client: C, operations: FakeOperations): C {
  const answer = (_next: unknown, context: { commandName?: string }) => async (args: { input: object }) => {
    const operation = String(context.commandName).replace(/Command$/, '');
    const fake = operations[operation];
    if (!fake) throw new Error(`the in-memory AWS of this test does not answer ${operation}`);
    return { output: { $metadata: { httpStatusCode: 200 }, ...(await fake(structuredClone(args.input))) } };
  };
  (client.middlewareStack as { add(m: unknown, o: object): void }).add(answer, { step: 'initialize', priority: 'high', name: 'inMemoryAws' });
  return client;
}

class Aws {
  public readonly dynamodb = new FakeDynamoDB([TABLE]);
  public readonly cognito = new FakeCognito(POOL);
  public readonly secrets = new FakeSecretsManager(() => new Date());
  public readonly eks = new FakeEks(CLUSTER);
  public readonly s3 = new Map<string, Buffer>();
  public readonly disabled = new Set<string>();
  public readonly deletedSecrets: string[] = [];

  public clients() {
    return {
      cognito: inMemory(new CognitoIdentityProviderClient(CLIENT_CONFIG), {
        ...this.cognito.operations,
        AdminDisableUser: (input: { Username: string }) => (this.disabled.add(input.Username), {}),
        AdminUserGlobalSignOut: () => ({}),
      }),
      dynamodb: inMemory(new DynamoDBClient(CLIENT_CONFIG), this.dynamodb.operations),
      secrets: inMemory(new SecretsManagerClient(CLIENT_CONFIG), {
        ...this.secrets.operations,
        DeleteSecret: (input: { SecretId: string }) => {
          const secret = this.secrets.secret(input.SecretId);
          secret.deletedDate = new Date();
          this.deletedSecrets.push(secret.name);
          return { Name: secret.name, DeletionDate: secret.deletedDate };
        },
      }),
      eks: inMemory(new EKSClient(CLIENT_CONFIG), {
        ...this.eks.operations,
        DeletePodIdentityAssociation: (input: { associationId: string }) => {
          const i = this.eks.associations.findIndex((a) => a.associationId === input.associationId);
          if (i < 0) throw Object.assign(new Error('no association'), { name: 'ResourceNotFoundException' });
          return { association: this.eks.associations.splice(i, 1)[0] };
        },
      }),
      s3: inMemory(new S3Client(CLIENT_CONFIG), {
        HeadObject: (input: { Key: string }) => {
          const body = this.s3.get(input.Key);
          if (!body) throw Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
          return { ContentLength: body.length };
        },
        GetObject: (input: { Key: string }) => {
          const body = this.s3.get(input.Key);
          if (!body) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
          return { Body: Readable.from([body]), ContentLength: body.length };
        },
      }),
    };
  }
}

// ------------------------------------------------------------------------------------------------------------------

let plane: KubernetesControlPlane;
let aws: Aws;
/** The library's own client, as the provisioning function makes it (endpoint, pinned CA, bearer token). */
let kube: Kube;
let tenant: RenderedTenant;

const provisionerSays = (answer: { status: number; body: any }) => `${answer.status} ${answer.body?.message ?? JSON.stringify(answer.body)}`;
/** What the admission policy's denials start with on a real server. */
const POLICY_DENIAL = new RegExp(`ValidatingAdmissionPolicy '${PROVISIONER_POLICY}' with binding '${PROVISIONER_POLICY}' denied request`);

beforeAll(async () => {
  plane = await KubernetesControlPlane.start({ timeoutMs: 60_000 });
  // What OpenClawTenantPlatform applies through its kubectl provider (cluster administrator), in its order.
  await applyAsPlatform(plane, [
    ...PLATFORM_NAMESPACE_OBJECTS,
    storageClass('fs-0123456789abcdef0'),
    ...provisionerRbacObjects(),
    ...renderRouter(ROUTER),
  ], {
    // A request the policy refuses on two counts (no tenant prefix, no Pod Security label), RBAC allows and a dry run
    // keeps from taking effect: refused once the policy is in force.
    client: plane.provisioner,
    object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'policy-probe' } },
  });
  kube = new KubeClient({ endpoint: plane.endpoint, ca: plane.ca, token: () => plane.provisionerToken, timeoutMs: 20_000 });
  aws = new Aws();
  aws.cognito.add({ username: USER, enabled: true, status: 'CONFIRMED', email: 'ann@example.com' });
}, 120_000);

afterAll(async () => {
  await KubernetesControlPlane.stopAll();
}, 60_000);

async function provisionOnce(): Promise<{ outcomes: unknown[]; failures: unknown[]; errors: unknown[] }> {
  const outcomes: unknown[] = [];
  const errors: unknown[] = [];
  const clients = aws.clients();
  const handler = createHandler({
    cognito: clients.cognito,
    dynamodb: clients.dynamodb,
    secrets: clients.secrets,
    eks: clients.eks,
    kube: () => kube,
    config: () => provisionConfigFromEnvironment({
      TENANT_TABLE: TABLE,
      MAX_TENANTS: '5',
      CLUSTER_NAME: CLUSTER,
      TENANT_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/openclaw-tenant`,
      KMS_KEY_ARN: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      PLATFORM_SPEC: JSON.stringify(PLATFORM),
      TENANT_DEFAULTS: JSON.stringify(DEFAULTS),
      ROTATION_DAYS: '',
      USER_POOL_ID: POOL,
    }),
    log: (_level, _message, fields = {}) => {
      if (fields.outcome !== undefined) outcomes.push(fields.outcome);
      if (fields.error !== undefined) errors.push(fields.error);
    },
    metric: () => undefined,
  });
  const out = await handler({ Records: [{ messageId: 'm-1', body: JSON.stringify({ version: 1, userPoolId: POOL, username: USER }) }] });
  return { outcomes, failures: out.batchItemFailures, errors };
}

/** Every object of the tenant as the API server stores it, by `kind/name`. */
async function stored(): Promise<Record<string, any>> {
  const out: Record<string, any> = {};
  for (const o of tenant.objects) out[`${o.kind}/${o.metadata.name}`] = await plane.admin.get(refOf(o));
  return out;
}

/** A label selector (`matchLabels`, `matchExpressions`) in the API's query syntax. */
function selectorString(selector: { matchLabels?: Record<string, string>; matchExpressions?: any[] }): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else if (e.operator === 'In' || e.operator === 'NotIn') parts.push(`${e.key} ${e.operator.toLowerCase()} (${e.values.join(',')})`);
    else throw new Error(`unknown selector operator ${e.operator}`);
  }
  return parts.join(',');
}

describe('self-service provisioning on a real Kubernetes API server', () => {
  test('the provisioner, bound only by the platform\'s ClusterRole and admission policy, provisions a tenant by server-side apply', async () => {
    const run = await provisionOnce();
    expect(run).toEqual({ outcomes: ['provisioned'], failures: [], errors: [] });
    const record = aws.dynamodb.table(TABLE).get(userKey(USER));
    expect(record?.status?.S).toBe('ACTIVE');
    tenant = renderTenant({ name: record!.tenant.S!, ...DEFAULTS }, PLATFORM);
    expect(aws.dynamodb.table(TABLE).get(tenantKey(tenant.tenant))?.username?.S).toBe(USER);

    const objects = await stored();
    for (const o of tenant.objects) {
      const got = objects[`${o.kind}/${o.metadata.name}`];
      expect(got).toBeDefined();
      // Stored as rendered (the server adds defaults and its own labels, never drops or changes ours).
      expect(got.metadata.labels).toEqual(expect.objectContaining(o.metadata.labels));
      for (const field of ['spec', 'data', 'automountServiceAccountToken']) {
        if (typeof o[field] === 'object') expect(got[field]).toMatchObject(o[field]);
        else if (o[field] !== undefined) expect(got[field]).toBe(o[field]);
      }
      // Written by server-side apply, by the provisioner's field manager.
      const managers = (got.metadata.managedFields ?? []).filter((m: any) => m.operation === 'Apply').map((m: any) => m.manager);
      expect(managers).toContain(FIELD_MANAGER);
    }
    // The NetworkPolicies passed the real server's validation (stored only: no network plugin enforces them here).
    const policies = tenant.objects.filter((o) => o.kind === 'NetworkPolicy');
    expect(policies.length).toBeGreaterThanOrEqual(3);
    for (const p of policies) expect(objects[`NetworkPolicy/${p.metadata.name}`].spec).toEqual(expect.objectContaining(p.spec));
  }, 120_000);

  test('the API server loaded the admission policy without type-checking warnings', async () => {
    const policy = await plane.admin.get({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', name: PROVISIONER_POLICY });
    expect(policy.status?.observedGeneration).toBe(policy.metadata.generation);
    expect(policy.status?.typeChecking?.expressionWarnings ?? []).toEqual([]);
    expect((policy.status?.conditions ?? []).filter((c: any) => c.status !== 'True')).toEqual([]);
  }, 30_000);

  test('re-applying every tenant object (a redelivered message) changes nothing: same resourceVersion and generation', async () => {
    // Controllers write status (quota usage, Deployment and ReplicaSet status) for a moment after the first apply:
    // compare once two reads a second apart agree.
    const versions = (objects: Record<string, any>) =>
      Object.fromEntries(Object.entries(objects).map(([k, o]) => [k, `${o.metadata.resourceVersion}/${o.metadata.generation ?? '-'}`]));
    const before = await eventually(plane, 'the tenant objects to settle', 30_000, async () => {
      const a = versions(await stored());
      await new Promise((r) => setTimeout(r, 1_500));
      const b = versions(await stored());
      return JSON.stringify(a) === JSON.stringify(b) ? b : undefined;
    });
    // Exactly what the provisioner does for each object: the library's client, the rendered objects, in order.
    for (const o of tenant.objects) await kube.apply(o);
    expect(versions(await stored())).toEqual(before);
    // And through the whole handler: a finished tenant is left alone.
    expect((await provisionOnce()).outcomes).toEqual(['already-active']);
    expect(versions(await stored())).toEqual(before);
  }, 90_000);

  test('Pod Security restricted admits the gateway: the Deployment\'s ReplicaSet creates its Pod', async () => {
    const selector = Object.entries({ ...GATEWAY_POD_LABELS, 'openclaw.ai/tenant': tenant.tenant }).map(([k, v]) => `${k}=${v}`).join(',');
    const seen = await eventually(plane, 'the gateway Pod (or the ReplicaSet\'s refusal)', 60_000, async () => {
      const pods = await plane.admin.list({ apiVersion: 'v1', kind: 'Pod', namespace: tenant.namespace }, selector);
      if (pods.length > 0) return { pods };
      // A ReplicaSet whose Pod was refused (Pod Security, quota, service account) says so in a condition.
      const sets = await plane.admin.list({ apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: tenant.namespace }, selector);
      const failure = sets.flatMap((s) => s.status?.conditions ?? []).find((c: any) => c.type === 'ReplicaFailure' && c.status === 'True');
      return failure ? { refused: failure.message } : undefined;
    });
    expect(seen.refused).toBeUndefined();
    expect(seen.pods).toHaveLength(1);
    const pod = seen.pods![0];
    expect(pod.metadata.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
    expect(pod.spec.serviceAccountName).toBe('openclaw');
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    // No kubelet: the Pod is created and admitted, never run.
    expect(pod.status.phase).toBe('Pending');
  }, 90_000);

  test('every NetworkPolicy selector picks, on the real server, exactly the Pods and namespaces it is meant for', async () => {
    // Stored, not enforced (no network plugin): the API server's own label-selector evaluation over the real Pods
    // (the gateway's, the router's, made by their ReplicaSets) and namespaces stands in for "who is selected".
    const routerPods = await eventually(plane, 'the router Pods', 60_000, async () => {
      const pods = await plane.admin.list({ apiVersion: 'v1', kind: 'Pod', namespace: SYSTEM_NAMESPACE }, selectorString({ matchLabels: ROUTER_POD_LABELS }));
      return pods.length === ROUTER.replicas ? pods.map((p) => p.metadata.name).sort() : undefined;
    });
    const gatewayPods = (await plane.admin.list({ apiVersion: 'v1', kind: 'Pod', namespace: tenant.namespace })).map((p) => p.metadata.name);
    expect(gatewayPods).toHaveLength(1);
    const podsIn = async (namespace: string, selector: any) =>
      (await plane.admin.list({ apiVersion: 'v1', kind: 'Pod', namespace }, selectorString(selector))).map((p) => p.metadata.name).sort();
    const namespacesSelectedBy = async (selector: any) =>
      (await plane.admin.list({ apiVersion: 'v1', kind: 'Namespace' }, selectorString(selector))).map((n) => n.metadata.name).sort();
    const policy = (objects: any[], name: string) => objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name).spec;

    // The tenant's policies: all of them hold the gateway; only the router's Pods may come in.
    for (const p of tenant.objects.filter((o) => o.kind === 'NetworkPolicy')) {
      expect(`${p.metadata.name}: ${await podsIn(tenant.namespace, p.spec.podSelector)}`).toBe(`${p.metadata.name}: ${gatewayPods}`);
    }
    const from = policy(tenant.objects, 'gateway-ingress-from-router').ingress[0].from[0];
    expect(await namespacesSelectedBy(from.namespaceSelector)).toEqual([SYSTEM_NAMESPACE]);
    expect(await podsIn(SYSTEM_NAMESPACE, from.podSelector)).toEqual(routerPods);

    // The router's policies: they hold the router's Pods, and its egress reaches tenant gateways only.
    const router = renderRouter(ROUTER);
    for (const name of ['router-ingress-from-load-balancer', 'router-egress']) {
      expect(await podsIn(SYSTEM_NAMESPACE, policy(router, name).podSelector)).toEqual(routerPods);
    }
    expect(await podsIn(SYSTEM_NAMESPACE, policy(router, 'default-deny').podSelector)).toEqual(routerPods);
    const toGateways = policy(router, 'router-egress').egress.find((rule: any) => rule.ports.some((p: any) => p.port === GATEWAY_PORT));
    const to = toGateways.to[0];
    expect(await namespacesSelectedBy(to.namespaceSelector)).toEqual([tenant.namespace]);
    expect(await podsIn(tenant.namespace, to.podSelector)).toEqual(gatewayPods);
  }, 90_000);

  test('Pod Security restricted refuses a root Pod in the tenant namespace', async () => {
    const root = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'root', namespace: tenant.namespace },
      spec: { containers: [{ name: 'sh', image: 'busybox', securityContext: { runAsUser: 0 }, resources: { limits: { cpu: '100m', memory: '64Mi' } } }] },
    };
    // Even the cluster administrator: Pod Security is admission, not authorization.
    const answer = await plane.admin.request('POST', `${objectPath({ apiVersion: 'v1', kind: 'Pod', namespace: tenant.namespace })}?dryRun=All`, root);
    expect(answer.status).toBe(403);
    expect(answer.body.message).toMatch(/violates PodSecurity "restricted:latest"/);
    expect(answer.body.message).toMatch(/runAsNonRoot != true|runAsUser=0/);
    // The same Pod made restricted-conformant is admitted: the refusal is Pod Security's, not something else.
    const conformant = {
      ...root,
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{
          name: 'sh',
          image: 'busybox',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          resources: { limits: { cpu: '100m', memory: '64Mi' } },
        }],
      },
    };
    const ok = await plane.admin.request('POST', `${objectPath({ apiVersion: 'v1', kind: 'Pod', namespace: tenant.namespace })}?dryRun=All`, conformant);
    expect(provisionerSays(ok)).toMatch(/^201 /);
  }, 30_000);

  test('the tenant\'s ResourceQuota is charged with the gateway Pod\'s requests and limits', async () => {
    const res = DEFAULT_GATEWAY_RESOURCES;
    const quota = tenant.objects.find((o) => o.kind === 'ResourceQuota');
    const used = await eventually(plane, 'the quota usage to count the gateway Pod', 30_000, async () => {
      const q = await plane.admin.get(refOf(quota));
      return q?.status?.used?.pods === '1' ? q.status : undefined;
    });
    expect(used.hard).toEqual(quota.spec.hard);
    expect(used.used).toEqual({
      'pods': '1',
      'requests.cpu': res.cpuRequest,
      'requests.memory': res.memoryRequest,
      'limits.cpu': res.cpuLimit,
      'limits.memory': res.memoryLimit,
      'persistentvolumeclaims': '1',
      'services': '1',
      'services.loadbalancers': '0',
      'services.nodeports': '0',
    });
  }, 60_000);

  test('RBAC grants the provisioner exactly apply on tenant kinds and delete on namespaces (SelfSubjectAccessReview)', async () => {
    const can = async (verb: string, resource: string, namespace?: string, group = '', subresource = '') => {
      const answer = await plane.provisioner.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb, resource, group, namespace, subresource } },
      });
      expect(answer.status).toBe(201);
      return answer.body.status.allowed === true;
    };
    // Who the API server takes the provisioner for: the access entry's user and group.
    const whoami = await plane.provisioner.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview',
    });
    expect(whoami.body.status.userInfo).toMatchObject({ username: PROVISIONER_IDENTITY.username, groups: [PROVISIONER_GROUP, 'system:authenticated'] });
    const ns = tenant.namespace;
    for (const verb of ['get', 'create', 'patch']) {
      expect(await can(verb, 'configmaps', ns)).toBe(true);
      expect(await can(verb, 'deployments', ns, 'apps')).toBe(true);
      expect(await can(verb, 'networkpolicies', ns, 'networking.k8s.io')).toBe(true);
    }
    expect(await can('delete', 'namespaces')).toBe(true);
    const refused: Array<[string, string, string?, string?, string?]> = [
      ['delete', 'configmaps', ns], ['delete', 'deployments', ns, 'apps'], ['update', 'deployments', ns, 'apps'],
      ['list', 'configmaps', ns], ['watch', 'deployments', ns, 'apps'], ['deletecollection', 'configmaps', ns],
      ['get', 'secrets', ns], ['create', 'secrets', ns], ['create', 'pods', ns], ['create', 'pods', ns, '', 'exec'],
      ['patch', 'deployments', ns, 'apps', 'scale'], ['patch', 'deployments', ns, 'apps', 'status'], ['update', 'namespaces', undefined, '', 'finalize'],
      ['create', 'rolebindings', ns, 'rbac.authorization.k8s.io'], ['bind', 'clusterroles', undefined, 'rbac.authorization.k8s.io'],
      ['escalate', 'clusterroles', undefined, 'rbac.authorization.k8s.io'], ['impersonate', 'users'],
      ['create', 'serviceaccounts', ns, '', 'token'], ['patch', 'validatingadmissionpolicies', undefined, 'admissionregistration.k8s.io'],
      ['get', 'nodes'], ['create', 'daemonsets', ns, 'apps'],
    ];
    for (const [verb, resource, namespace, group, sub] of refused) {
      expect(`${verb} ${resource}${sub ? `/${sub}` : ''}: ${await can(verb, resource, namespace, group ?? '', sub ?? '')}`).toBe(`${verb} ${resource}${sub ? `/${sub}` : ''}: false`);
    }
  }, 60_000);

  describe('the admission policy refuses the provisioner what RBAC alone would let it do', () => {
    const cm = (namespace: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace }, data: { a: 'b' } });

    test('objects in kube-system, default and other namespaces without the tenant prefix', async () => {
      for (const namespace of ['kube-system', 'default', 'kube-public']) {
        const answer = await plane.provisioner.applyRaw(cm(namespace), { dryRun: true });
        expect(provisionerSays(answer)).toMatch(/^403 /);
        expect(answer.body.message).toMatch(POLICY_DENIAL);
        expect(answer.body.message).toContain(`may act only in tenant namespaces (openclaw-<tenant>, not openclaw-system, openclaw-platform, openclaw-router, openclaw-admin, openclaw-default), not in '${namespace}'`);
      }
      // Through the library's own client (no dry run): the refusal surfaces as a KubeError, and nothing is stored.
      const error = await kube.apply({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'x', namespace: 'kube-system' }, spec: { hard: { pods: '0' } } })
        .then(() => undefined, (e) => e);
      expect(error).toBeInstanceOf(KubeError);
      expect((error as KubeError).status).toBe(403);
      expect((error as KubeError).message).toMatch(POLICY_DENIAL);
      expect(await plane.admin.get({ apiVersion: 'v1', kind: 'ResourceQuota', namespace: 'kube-system', name: 'x' })).toBeUndefined();
    }, 30_000);

    test('the reserved namespaces: openclaw-system (the router\'s) and its objects', async () => {
      for (const reserved of ['openclaw-system', 'openclaw-platform', 'openclaw-admin']) {
        const answer = await plane.provisioner.applyRaw(cm(reserved), { dryRun: true });
        if (reserved === 'openclaw-system') expect(provisionerSays(answer)).toMatch(/^403 .*not in 'openclaw-system'/);
        else expect(answer.status === 404 || POLICY_DENIAL.test(answer.body?.message)).toBe(true); // the policy, or no such namespace
      }
      // Changing the router (a tenant kind, in the system namespace).
      const router = renderRouter(ROUTER).find((o) => o.kind === 'Deployment');
      const answer = await plane.provisioner.applyRaw({ ...router, spec: { ...router.spec, replicas: 0 } }, { dryRun: true });
      expect(provisionerSays(answer)).toMatch(/^403 /);
      expect(answer.body.message).toMatch(POLICY_DENIAL);
      // Relabelling or deleting the system namespace itself.
      const system = { ...PLATFORM_NAMESPACE_OBJECTS[0], metadata: { ...PLATFORM_NAMESPACE_OBJECTS[0].metadata, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'openclaw.ai/tenant': 'system' } } };
      expect(provisionerSays(await plane.provisioner.applyRaw(system, { dryRun: true }))).toMatch(/^403 .*not in 'openclaw-system'/);
      const del = await plane.provisioner.request('DELETE', `${objectPath({ apiVersion: 'v1', kind: 'Namespace', name: SYSTEM_NAMESPACE })}?dryRun=All`);
      expect(provisionerSays(del)).toMatch(/^403 .*not in 'openclaw-system'/);
      expect(await plane.admin.get({ apiVersion: 'v1', kind: 'Namespace', name: SYSTEM_NAMESPACE })).toBeDefined();
    }, 30_000);

    test('relaxing the Pod Security labels of a tenant namespace, or a new namespace without them', async () => {
      const ns = tenant.objects[0];
      for (const enforce of ['privileged', 'baseline']) {
        const relaxed = { ...ns, metadata: { ...ns.metadata, labels: { ...ns.metadata.labels, 'pod-security.kubernetes.io/enforce': enforce } } };
        const answer = await plane.provisioner.applyRaw(relaxed, { dryRun: true, fieldManager: FIELD_MANAGER });
        expect(provisionerSays(answer)).toMatch(/^403 .*must keep the label pod-security.kubernetes.io\/enforce=restricted/);
      }
      const pinnedOld = { ...ns, metadata: { ...ns.metadata, labels: { ...ns.metadata.labels, 'pod-security.kubernetes.io/enforce-version': 'v1.24' } } };
      expect(provisionerSays(await plane.provisioner.applyRaw(pinnedOld, { dryRun: true, fieldManager: FIELD_MANAGER }))).toMatch(/^403 .*must keep the label/);
      const bare = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'openclaw-unlabelled' } };
      expect(provisionerSays(await plane.provisioner.applyRaw(bare, { dryRun: true }))).toMatch(/^403 .*must keep the label/);
      const stillRestricted = await plane.admin.get(refOf(ns));
      expect(stillRestricted.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }, 30_000);

    test('deleting anything but a tenant namespace, and kinds or subresources outside the tenant\'s', async () => {
      const ns = tenant.namespace;
      // Refused by RBAC (no delete verb but on namespaces), before admission.
      const delCm = await plane.provisioner.request('DELETE', `${objectPath({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'openclaw-config' })}?dryRun=All`);
      expect(provisionerSays(delCm)).toMatch(/^403 .*cannot delete resource "configmaps"/);
      // Namespaces RBAC lets it delete, the policy does not: one that is not a tenant's.
      await plane.admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-data' } });
      const delOther = await plane.provisioner.request('DELETE', `${objectPath({ apiVersion: 'v1', kind: 'Namespace', name: 'team-data' })}?dryRun=All`);
      expect(provisionerSays(delOther)).toMatch(/^403 .*not in 'team-data'/);
      // Secrets, Pods, RBAC objects: RBAC refuses them outright.
      for (const o of [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: ns }, stringData: { a: 'b' } },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'own', namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: PROVISIONER_GROUP }] },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'own' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: PROVISIONER_GROUP }] },
      ]) {
        expect(provisionerSays(await plane.provisioner.applyRaw(o, { dryRun: true }))).toMatch(/^403 .*forbidden: User/);
      }
      // A subresource of a tenant kind.
      const scale = await plane.provisioner.request('PATCH', `${objectPath(gatewayDeploymentRef(tenant.tenant))}/scale?dryRun=All`,
        { spec: { replicas: 5 } }, 'application/merge-patch+json');
      expect(provisionerSays(scale)).toMatch(/^403 /);
    }, 30_000);
  });

  test('the policy alone refuses subresources and deleting what is not a namespace, were RBAC ever to grant them', async () => {
    // Defence in depth, and the subresource check is the very field a real server leaves out when empty: grant the
    // provisioner's group more than the platform does (a Role in the tenant namespace, for this test only), and the
    // admission policy still refuses.
    const ns = tenant.namespace;
    const rbac = 'rbac.authorization.k8s.io/v1';
    const extra = [
      {
        apiVersion: rbac,
        kind: 'Role',
        metadata: { name: 'too-much', namespace: ns },
        rules: [
          { apiGroups: ['apps'], resources: ['deployments/scale', 'deployments/status'], verbs: ['get', 'patch', 'update'] },
          { apiGroups: [''], resources: ['configmaps'], verbs: ['delete'] },
        ],
      },
      {
        apiVersion: rbac,
        kind: 'RoleBinding',
        metadata: { name: 'too-much', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'too-much' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: PROVISIONER_GROUP }],
      },
    ];
    for (const o of extra) await plane.admin.apply(o);
    try {
      const deployment = objectPath(gatewayDeploymentRef(tenant.tenant));
      const scale = await plane.provisioner.request('PATCH', `${deployment}/scale?dryRun=All`, { spec: { replicas: 5 } }, 'application/merge-patch+json');
      expect(provisionerSays(scale)).toMatch(/^403 .*denied request: the self-service provisioner may manage only tenant objects .*, not autoscaling\/Scale scale$/);
      const status = await plane.provisioner.request('PATCH', `${deployment}/status?dryRun=All`, { status: { replicas: 9 } }, 'application/merge-patch+json');
      expect(provisionerSays(status)).toMatch(/^403 .*, not apps\/Deployment status$/);
      const del = await plane.provisioner.request('DELETE', `${objectPath({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'openclaw-config' })}?dryRun=All`);
      expect(provisionerSays(del)).toMatch(/^403 .*may delete only tenant namespaces, not ConfigMap objects$/);
    } finally {
      for (const o of extra.reverse()) await plane.admin.request('DELETE', objectPath(refOf(o)));
    }
  }, 30_000);

  test('the token rotation\'s restart annotation (its own field manager) is admitted and survives a re-apply of the tenant', async () => {
    await kube.apply(gatewayDeploymentPatch(tenant.tenant, { template: { metadata: { annotations: { [TOKEN_VERSION_ANNOTATION]: 'v2' } } } }), { fieldManager: ROTATION_FIELD_MANAGER });
    for (const o of tenant.objects) await kube.apply(o);
    const deployment = await kube.get(gatewayDeploymentRef(tenant.tenant));
    expect(deployment.spec.template.metadata.annotations[TOKEN_VERSION_ANNOTATION]).toBe('v2');
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  }, 30_000);

  test('deprovisioning (begin, stop, verify, remove) scales the gateway to zero, then deletes everything provisioning created', async () => {
    const clients = aws.clients();
    const deps: DeprovisionDeps = {
      ...clients,
      kube: () => kube,
      config: { tableName: TABLE, userPoolId: POOL, exportBucket: BUCKET, clusterName: CLUSTER, secretRecoveryDays: 7 },
    };
    const t = tenant.tenant;
    expect(await deprovision({ step: 'begin', tenant: t }, deps)).toMatchObject({ status: 'DEPROVISIONING' });
    expect(aws.disabled.has(USER)).toBe(true);

    // The state machine retries `stop` while the gateway runs: here until the real controllers have scaled it down.
    const stopped = await eventually(plane, 'the gateway to be stopped', 60_000, async () => {
      try {
        return await deprovision({ step: 'stop', tenant: t }, deps);
      } catch (e) {
        if ((e as Error).name === 'GatewayStillRunning') return undefined;
        throw e;
      }
    });
    expect(stopped).toMatchObject({ step: 'stop', deployment: 'stopped' });
    const deployment = await plane.admin.get(gatewayDeploymentRef(t));
    expect(deployment.spec.replicas).toBe(0);
    expect(deployment.metadata.managedFields.map((m: any) => m.manager)).toContain(DEPROVISION_FIELD_MANAGER);
    expect(await plane.admin.list({ apiVersion: 'v1', kind: 'Pod', namespace: tenant.namespace })).toEqual([]);

    // The export function's output (its archive and manifest), as the verify step reads them back.
    const archive = Buffer.from('an archive of the tenant\'s files');
    const exportKey = `${exportPrefix(t)}${new Date().toISOString().replace(/[:.]/g, '-')}.tar`;
    const sha256 = createHash('sha256').update(archive).digest('hex');
    aws.s3.set(exportKey, archive);
    const manifest = { tenant: t, files: 1, bytes: archive.length, sha256, createdAt: new Date(Date.now() + 1000).toISOString() };
    aws.s3.set(manifestKeyOf(exportKey), Buffer.from(JSON.stringify(manifest)));
    expect(await deprovision({ step: 'verify', tenant: t, export: { exportKey, manifestKey: manifestKeyOf(exportKey), sha256, bytes: archive.length } }, deps))
      .toMatchObject({ status: 'EXPORTED' });

    const removed = await deprovision({ step: 'remove', tenant: t }, deps);
    expect(removed).toMatchObject({ status: 'REMOVED', alreadyRemoved: false, namespaceDeleted: true, associationsDeleted: 1, secret: 'scheduled' });
    // The namespace controller deletes the namespace's contents, then the namespace.
    await eventually(plane, 'the tenant namespace to be gone', 60_000, async () =>
      (await plane.admin.get({ apiVersion: 'v1', kind: 'Namespace', name: tenant.namespace })) === undefined);
    for (const o of tenant.objects) expect(`${o.kind}/${o.metadata.name}: ${await plane.admin.get(refOf(o))}`).toBe(`${o.kind}/${o.metadata.name}: undefined`);
    // The platform's own objects are untouched.
    for (const o of renderRouter(ROUTER)) expect(await plane.admin.get(refOf(o))).toBeDefined();
    // A second `remove` (a retried state machine) changes nothing.
    expect(await deprovision({ step: 'remove', tenant: t }, deps)).toMatchObject({ status: 'REMOVED', alreadyRemoved: true });
  }, 180_000);
});
