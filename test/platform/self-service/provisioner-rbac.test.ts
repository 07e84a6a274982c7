import { isCelError, run } from '@bufbuild/cel';
import { samplePlatform, sampleTenant } from '../../../oracles/lib/tenant-sample';
import { PROVISIONER_GROUP } from '../../../src/platform/self-service/contract';
import { kubeResource } from '../../../src/platform/self-service/kube-client';
import { PROVISIONER_CLUSTER_ROLE, PROVISIONER_POLICY, provisionerRbacObjects } from '../../../src/platform/self-service/provisioner-rbac';
import { renderTenant } from '../../../src/platform/tenant-manifests';

// The ClusterRole is checked rule by rule; the admission policy's CEL is evaluated, as the API server would, with a
// CEL interpreter (@bufbuild/cel) against sample admission requests.

const objects = provisionerRbacObjects();
const byKind = (kind: string) => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
};
const role = byKind('ClusterRole');
const binding = byKind('ClusterRoleBinding');
const policy = byKind('ValidatingAdmissionPolicy');
const policyBinding = byKind('ValidatingAdmissionPolicyBinding');
const acme = renderTenant(sampleTenant('acme'), samplePlatform());

const APPLY = ['get', 'create', 'patch'];

interface Request {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  kind: { group: string; version: string; kind: string };
  name?: string;
  namespace?: string;
  subResource?: string;
  userInfo: { username: string; groups?: string[] };
}

/**
 * The request as the policy's CEL sees it on a real API server: the admission request's JSON, whose empty optional
 * fields (`name`, `namespace`, `subResource`, `userInfo.groups`) are left out, not set to ''. A policy reading such a
 * field without `has()` fails on a real cluster (and, failing closed, refuses the request); so must it here.
 */
function asServerSends(request: Request): Request {
  const out: any = { ...request, userInfo: { ...request.userInfo } };
  for (const field of ['name', 'namespace', 'subResource'] as const) if (!out[field]) delete out[field];
  if (!out.userInfo.groups?.length) delete out.userInfo.groups;
  return out;
}

interface Verdict {
  /** False when the match conditions leave the request to others (the policy does not apply). */
  readonly matched: boolean;
  /** The messages of the failed validations (empty = admitted). */
  readonly denials: string[];
}

function evaluate(expression: string, bindings: Record<string, any>): any {
  const result = run(expression, bindings);
  // An evaluation error with failurePolicy Fail would deny the request: never acceptable in these samples.
  if (isCelError(result)) throw new Error(`CEL error in '${expression}': ${String(result)}`);
  return result;
}

/** The policy's verdict on one request, evaluated in the API server's order. */
function admit(request: Request, object: any, oldObject: any = null): Verdict {
  const bindings: Record<string, any> = { request: asServerSends(request), object, oldObject };
  for (const c of policy.spec.matchConditions) {
    if (evaluate(c.expression, bindings) !== true) return { matched: false, denials: [] };
  }
  const variables: Record<string, any> = {};
  for (const v of policy.spec.variables) variables[v.name] = evaluate(v.expression, { ...bindings, variables });
  const denials: string[] = [];
  for (const v of policy.spec.validations) {
    const ok = evaluate(v.expression, { ...bindings, variables });
    expect(typeof ok).toBe('boolean');
    if (!ok) denials.push(v.messageExpression ? evaluate(v.messageExpression, { ...bindings, variables }) : v.message);
  }
  return { matched: true, denials };
}

const PROVISIONER = { username: 'arn:aws:sts::111122223333:assumed-role/provisioner/fn', groups: [PROVISIONER_GROUP, 'system:authenticated'] };

/** The admission request of a write of `object` by the provisioner (request.namespace as the API server sets it). */
function requestFor(object: any, operation: Request['operation'] = 'CREATE', user = PROVISIONER, subResource = ''): Request {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  return {
    operation,
    kind: { group, version, kind: object.kind },
    name: object.metadata.name,
    namespace: object.metadata.namespace ?? '',
    subResource,
    userInfo: user,
  };
}

describe('the provisioner ClusterRole', () => {
  test('grants exactly apply (get, create, patch) on the tenant kinds and delete on namespaces only', () => {
    expect(role.metadata.name).toBe(PROVISIONER_CLUSTER_ROLE);
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'create', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['resourcequotas', 'limitranges', 'serviceaccounts', 'configmaps', 'persistentvolumeclaims', 'services'], verbs: APPLY },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: APPLY },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: APPLY },
      { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: APPLY },
    ]);
  });

  test('has no wildcard, no Secrets, no pod exec, no RBAC, no nodes and no list, watch or escalation verbs', () => {
    const all = (field: string) => role.rules.flatMap((r: any) => r[field] ?? []);
    for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs']) {
      for (const value of all(field)) expect(value).not.toContain('*');
    }
    expect(role.rules.every((r: any) => r.nonResourceURLs === undefined)).toBe(true);
    const resources = all('resources');
    for (const forbidden of ['secrets', 'pods', 'pods/exec', 'pods/attach', 'pods/portforward', 'nodes', 'nodes/proxy', 'serviceaccounts/token', 'deployments/scale', 'namespaces/finalize']) {
      expect(resources).not.toContain(forbidden);
    }
    expect(all('apiGroups')).not.toContain('rbac.authorization.k8s.io');
    expect(all('apiGroups')).not.toContain('admissionregistration.k8s.io');
    expect(new Set(all('verbs'))).toEqual(new Set(['get', 'create', 'patch', 'delete']));
    expect(role.rules.filter((r: any) => r.verbs.includes('delete'))).toEqual([{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'create', 'patch', 'delete'] }]);
  });

  test('lets the provisioner apply every object the tenant renderer emits', () => {
    for (const o of acme.objects) {
      const r = kubeResource(o.apiVersion, o.kind);
      const rule = role.rules.find((x: any) => x.apiGroups.includes(r.group) && x.resources.includes(r.resource));
      expect(rule).toBeDefined();
      expect(rule.verbs).toEqual(expect.arrayContaining(APPLY));
    }
  });

  test('is bound to the provisioners group only', () => {
    expect(binding.metadata.name).toBe(PROVISIONER_CLUSTER_ROLE);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PROVISIONER_CLUSTER_ROLE });
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'openclaw:provisioners' }]);
    expect(PROVISIONER_GROUP).toBe('openclaw:provisioners');
  });
});

describe('the provisioner admission policy', () => {
  test('is a GA ValidatingAdmissionPolicy over every write, failing closed, bound with Deny', () => {
    expect(policy.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(policy.metadata.name).toBe(PROVISIONER_POLICY);
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(policy.spec.matchConstraints.resourceRules).toEqual([
      { apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['*/*'], scope: '*' },
    ]);
    expect(policyBinding.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(policyBinding.spec).toEqual({ policyName: PROVISIONER_POLICY, validationActions: ['Deny'] });
    for (const v of policy.spec.validations) expect(v.reason).toBe('Forbidden');
  });

  test('admits the provisioner creating and re-applying every object of a tenant', () => {
    for (const o of acme.objects) {
      for (const op of ['CREATE', 'UPDATE'] as const) {
        expect(admit(requestFor(o, op), o, op === 'UPDATE' ? o : null)).toEqual({ matched: true, denials: [] });
      }
    }
  });

  test('reads the request fields a real API server leaves out (subResource, namespace, groups) without an evaluation error', () => {
    // A real API server sends no `subResource` for a request to the object itself, no `namespace` for a cluster-scoped
    // one; reading them bare is a CEL error, which the Fail policy turns into a refusal of every provisioning request.
    const ns = acme.objects[0];
    const request = asServerSends(requestFor(ns));
    expect(request).not.toHaveProperty('subResource');
    expect(request).not.toHaveProperty('namespace');
    expect(admit(requestFor(ns), ns)).toEqual({ matched: true, denials: [] });
    const cm = acme.objects.find((o) => o.kind === 'ConfigMap');
    expect(asServerSends(requestFor(cm))).not.toHaveProperty('subResource');
    expect(admit(requestFor(cm), cm)).toEqual({ matched: true, denials: [] });
    expect(admit(requestFor(cm, 'CREATE', { username: 'anonymous', groups: [] }), cm)).toEqual({ matched: false, denials: [] });
  });

  test('admits a Namespace whatever request.namespace the API server sets for it (empty or its own name)', () => {
    const ns = acme.objects[0];
    expect(admit({ ...requestFor(ns), namespace: ns.metadata.name }, ns).denials).toEqual([]);
    expect(admit({ ...requestFor(ns), namespace: '' }, ns).denials).toEqual([]);
    const def = { ...ns, metadata: { ...ns.metadata, name: 'default' } };
    expect(admit({ ...requestFor(def), namespace: 'default' }, def).denials).toHaveLength(1);
    expect(admit({ ...requestFor(def), namespace: '' }, def).denials).toHaveLength(1);
  });

  test('admits deleting a tenant namespace (no object, only the old one)', () => {
    const ns = acme.objects[0];
    expect(admit(requestFor(ns, 'DELETE'), null, ns)).toEqual({ matched: true, denials: [] });
  });

  test('denies an object in openclaw-system, and the openclaw-system namespace itself', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'router', namespace: 'openclaw-system' } };
    expect(admit(requestFor(cm, 'UPDATE'), cm, cm).denials).toEqual([
      "the self-service provisioner may act only in tenant namespaces (openclaw-<tenant>, not openclaw-system, openclaw-platform, openclaw-router, openclaw-admin, openclaw-default), not in 'openclaw-system'",
    ]);
    const system = { ...acme.objects[0], metadata: { ...acme.objects[0].metadata, name: 'openclaw-system' } };
    expect(admit(requestFor(system, 'UPDATE'), system, system).denials).toHaveLength(1);
    expect(admit(requestFor(system, 'DELETE'), null, system).denials).toHaveLength(1);
    for (const reserved of ['openclaw-platform', 'openclaw-router', 'openclaw-admin', 'openclaw-default']) {
      const o = { ...cm, metadata: { name: 'x', namespace: reserved } };
      expect(admit(requestFor(o), o).denials).toHaveLength(1);
    }
  });

  test('denies objects in kube-system and other namespaces without the tenant prefix', () => {
    const deployment = acme.objects.find((o) => o.kind === 'Deployment');
    for (const namespace of ['kube-system', 'default', 'openclaw', 'xopenclaw-acme', '']) {
      const o = { ...deployment, metadata: { ...deployment.metadata, namespace } };
      const verdict = admit(requestFor(o, 'UPDATE'), o, o);
      expect(verdict.matched).toBe(true);
      expect(verdict.denials).toEqual([`the self-service provisioner may act only in tenant namespaces (openclaw-<tenant>, not openclaw-system, openclaw-platform, openclaw-router, openclaw-admin, openclaw-default), not in '${namespace}'`]);
    }
  });

  test("denies a Namespace named 'default', and deleting kube-system", () => {
    const def = { ...acme.objects[0], metadata: { ...acme.objects[0].metadata, name: 'default' } };
    expect(admit(requestFor(def, 'UPDATE'), def, def).denials).toEqual([expect.stringMatching(/not in 'default'$/)]);
    const kubeSystem = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } };
    expect(admit(requestFor(kubeSystem, 'DELETE'), null, kubeSystem).denials).toEqual([expect.stringMatching(/not in 'kube-system'$/)]);
  });

  test('denies kinds the renderer does not emit, even in a tenant namespace: Secrets, RBAC, pods, cluster-scoped kinds', () => {
    const samples = [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'stolen', namespace: 'openclaw-acme' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'openclaw-acme' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb', namespace: 'openclaw-acme' } },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'openclaw-acme' } },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd', namespace: 'openclaw-acme' } },
      // Same kind name, another group.
      { apiVersion: 'example.com/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'openclaw-acme' } },
    ];
    for (const o of samples) {
      const kindName = o.apiVersion.includes('/') ? `${o.apiVersion.split('/')[0]}/${o.kind}` : o.kind;
      expect(admit(requestFor(o), o).denials).toEqual([
        `the self-service provisioner may manage only tenant objects (Namespace, ResourceQuota, LimitRange, networking.k8s.io/NetworkPolicy, ServiceAccount, ConfigMap, PersistentVolumeClaim, apps/Deployment, Service, policy/PodDisruptionBudget), not ${kindName}`,
      ]);
    }
    const clusterRole = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'admin' } };
    expect(admit(requestFor(clusterRole), clusterRole).denials).toHaveLength(2); // not a tenant kind, and no tenant namespace
  });

  test('denies subresources, even of tenant kinds', () => {
    const deployment = acme.objects.find((o) => o.kind === 'Deployment');
    const scale = { ...requestFor(deployment, 'UPDATE', PROVISIONER, 'scale'), kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' } };
    expect(admit(scale, {}).denials).toEqual([expect.stringMatching(/not autoscaling\/Scale scale$/)]);
    const status = requestFor(deployment, 'UPDATE', PROVISIONER, 'status');
    expect(admit(status, deployment, deployment).denials).toEqual([expect.stringMatching(/not apps\/Deployment status$/)]);
  });

  test('denies deleting anything but a namespace', () => {
    for (const o of acme.objects.slice(1)) {
      expect(admit(requestFor(o, 'DELETE'), null, o).denials).toEqual([`the self-service provisioner may delete only tenant namespaces, not ${o.apiVersion.includes('/') ? `${o.apiVersion.split('/')[0]}/` : ''}${o.kind} objects`]);
    }
  });

  test('denies a tenant namespace without Pod Security restricted at the latest version', () => {
    const ns = acme.objects[0];
    const withLabels = (labels: Record<string, string> | undefined) =>
      ({ ...ns, metadata: { name: ns.metadata.name, ...(labels ? { labels } : {}) } });
    const message = 'a tenant namespace must keep the label pod-security.kubernetes.io/enforce=restricted (and pod-security.kubernetes.io/enforce-version latest or unset)';
    const samples: Array<Record<string, string> | undefined> = [
      undefined,
      {},
      { 'pod-security.kubernetes.io/enforce': 'privileged' },
      { 'pod-security.kubernetes.io/enforce': 'baseline' },
      { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.22' },
    ];
    for (const labels of samples) {
      expect(admit(requestFor(withLabels(labels), 'UPDATE'), withLabels(labels), ns).denials).toEqual([message]);
    }
    expect(admit(requestFor(withLabels({ 'pod-security.kubernetes.io/enforce': 'restricted' })), withLabels({ 'pod-security.kubernetes.io/enforce': 'restricted' })).denials).toEqual([]);
  });

  test('applies only to requests of the provisioners group', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'kube-system' } };
    for (const groups of [['system:masters', 'system:authenticated'], [], ['openclaw:provisioners-not'], ['system:serviceaccounts:openclaw-system']]) {
      expect(admit(requestFor(secret, 'CREATE', { username: 'someone', groups }), secret)).toEqual({ matched: false, denials: [] });
    }
    expect(admit(requestFor(secret, 'CREATE', { username: 'fn', groups: ['system:authenticated', PROVISIONER_GROUP] }), secret).matched).toBe(true);
  });
});
