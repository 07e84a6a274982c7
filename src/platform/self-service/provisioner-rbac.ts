/**
 * What the self-service handlers may do in the cluster: a ClusterRole with only the verbs and resources the
 * provisioning, token rotation and deprovisioning need, bound to the handlers' access-entry group, and an admission
 * policy that holds the same group to tenant namespaces and tenant kinds whatever RBAC grants it (RBAC cannot name
 * namespaces that do not exist yet, nor tell a tenant namespace from `kube-system`). The platform applies these
 * objects once, at deploy time. CDK-free.
 * @internal
 */
import { PROVISIONER_GROUP } from './contract';
import { KUBE_RESOURCES, KubeResource } from './kube-client';
import { NAMESPACE_PREFIX, RESERVED_TENANT_NAMES, tenantNamespace } from '../tenant-spec';

/** The ClusterRole (and ClusterRoleBinding) of the self-service handlers. */
export const PROVISIONER_CLUSTER_ROLE = 'openclaw-provisioner';

/** The ValidatingAdmissionPolicy (and its binding) that confines the handlers to tenant namespaces and kinds. */
export const PROVISIONER_POLICY = 'openclaw-provisioner-scope';

/** Server-side apply: read the object, create it when missing, patch it otherwise. */
const APPLY_VERBS = ['get', 'create', 'patch'];

/** Namespaces the provisioner may never touch, though they carry the tenant prefix: the reserved tenant names'. */
export const PROTECTED_NAMESPACES: readonly string[] = RESERVED_TENANT_NAMES.map(tenantNamespace);

/** `Namespace`, `apps/Deployment`: how the admission policy names a kind (`<group>/<kind>`, the core group bare). */
export function policyKindName(r: Pick<KubeResource, 'group' | 'kind'>): string {
  return r.group ? `${r.group}/${r.kind}` : r.kind;
}

/** A CEL string literal of a fixed identifier (no quoting needed, so none is attempted). */
function cel(s: string): string {
  if (!/^[A-Za-z0-9./:_-]*$/.test(s)) throw new Error(`internal: '${s}' cannot be written as a plain CEL string literal`);
  return `'${s}'`;
}

const celList = (items: readonly string[]) => `[${items.map(cel).join(', ')}]`;

/**
 * A request field the API server leaves out when it is empty (`subResource`, `namespace`, `name`, `groups`: the
 * admission request reaches CEL as its JSON, whose empty fields are omitted), read with a fallback. Reading an absent
 * field is an evaluation error, and with `failurePolicy: Fail` an error refuses the request: `request.subResource ==
 * ''` refused every request without a subresource. Written with `has()` rather than `request.?field.orValue(...)`
 * (the same on the API server) so that the unit tests' CEL interpreter, which has no optional syntax, runs it too.
 */
function optional(field: string, fallback: string): string {
  return `(has(${field}) ? ${field} : ${fallback})`;
}

/** The Pod Security labels a tenant namespace must keep. */
const PSS_ENFORCE = 'pod-security.kubernetes.io/enforce';
const PSS_ENFORCE_VERSION = 'pod-security.kubernetes.io/enforce-version';

/**
 * The policy's CEL: who it applies to (match conditions), the values it derives (variables) and what it requires
 * (validations). Exported for the tests that evaluate it.
 * @internal
 */
export function provisionerPolicyCel() {
  const kinds = KUBE_RESOURCES.map(policyKindName);
  return {
    matchConditions: [
      {
        name: 'provisioner-requests-only',
        expression: `has(request.userInfo.groups) && ${cel(PROVISIONER_GROUP)} in request.userInfo.groups`,
      },
    ],
    variables: [
      {
        name: 'kindName',
        expression: "(request.kind.group == '' ? '' : request.kind.group + '/') + request.kind.kind",
      },
      {
        name: 'isNamespace',
        expression: "request.kind.group == '' && request.kind.kind == 'Namespace'",
      },
      {
        // '' for a request to the object itself ('status', 'scale'... for a subresource).
        name: 'subResource',
        expression: optional('request.subResource', "''"),
      },
      {
        // A Namespace is its own target (request.name); any other object's is the namespace it lives in ('' for a
        // cluster-scoped object).
        name: 'targetNamespace',
        expression: `variables.isNamespace ? ${optional('request.name', "''")} : ${optional('request.namespace', "''")}`,
      },
    ],
    validations: [
      {
        expression: `variables.subResource == '' && variables.kindName in ${celList(kinds)}`,
        messageExpression: `'the self-service provisioner may manage only tenant objects (${kinds.join(', ')}), not ' + variables.kindName + (variables.subResource == '' ? '' : ' ' + variables.subResource)`,
        reason: 'Forbidden',
      },
      {
        expression: `variables.targetNamespace.startsWith(${cel(NAMESPACE_PREFIX)}) && !(variables.targetNamespace in ${celList(PROTECTED_NAMESPACES)})`,
        messageExpression: `'the self-service provisioner may act only in tenant namespaces (${NAMESPACE_PREFIX}<tenant>, not ${PROTECTED_NAMESPACES.join(', ')}), not in \\'' + variables.targetNamespace + '\\''`,
        reason: 'Forbidden',
      },
      {
        expression: "request.operation != 'DELETE' || variables.isNamespace",
        messageExpression: "'the self-service provisioner may delete only tenant namespaces, not ' + variables.kindName + ' objects'",
        reason: 'Forbidden',
      },
      {
        // A namespace it creates or changes stays under Pod Security restricted (at the latest version).
        expression: `!variables.isNamespace || request.operation == 'DELETE' || (has(object.metadata.labels) && ${cel(PSS_ENFORCE)} in object.metadata.labels && object.metadata.labels[${cel(PSS_ENFORCE)}] == 'restricted' && (!(${cel(PSS_ENFORCE_VERSION)} in object.metadata.labels) || object.metadata.labels[${cel(PSS_ENFORCE_VERSION)}] == 'latest'))`,
        message: `a tenant namespace must keep the label ${PSS_ENFORCE}=restricted (and ${PSS_ENFORCE_VERSION} latest or unset)`,
        reason: 'Forbidden',
      },
    ],
  };
}

/**
 * The ClusterRole's rules: for each API group, apply (get, create, patch) on the tenant kinds, and delete on
 * namespaces only (deleting a tenant's namespace deletes everything in it). No list or watch, no Secrets, no pod
 * exec, no RBAC, no nodes, no wildcard.
 * @internal
 */
export function provisionerRules(): any[] {
  const groups = [...new Set(KUBE_RESOURCES.map((r) => r.group))];
  const rules: any[] = [];
  for (const group of groups) {
    const resources = KUBE_RESOURCES.filter((r) => r.group === group && !(group === '' && r.kind === 'Namespace')).map((r) => r.resource);
    if (group === '') rules.push({ apiGroups: [''], resources: ['namespaces'], verbs: [...APPLY_VERBS, 'delete'] });
    if (resources.length > 0) rules.push({ apiGroups: [group], resources, verbs: [...APPLY_VERBS] });
  }
  return rules;
}

/**
 * The Kubernetes objects the platform applies once for the self-service handlers: the ClusterRole
 * `openclaw-provisioner` and its binding to the group `openclaw:provisioners` (the handlers' access entries), and a
 * ValidatingAdmissionPolicy (`admissionregistration.k8s.io/v1`, Kubernetes 1.30 or later) with a `Deny` binding
 * that refuses any request of that group outside tenant namespaces (`openclaw-<tenant>`, the reserved names such as
 * `openclaw-system` excepted), of a kind the tenant renderer does not emit, deleting anything but a namespace, or
 * lifting a tenant namespace's Pod Security `restricted` enforcement.
 */
export function provisionerRbacObjects(): any[] {
  const labels = { 'app.kubernetes.io/part-of': 'openclaw', 'app.kubernetes.io/component': 'self-service' };
  const policy = provisionerPolicyCel();
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: PROVISIONER_CLUSTER_ROLE, labels },
      rules: provisionerRules(),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: PROVISIONER_CLUSTER_ROLE, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PROVISIONER_CLUSTER_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: PROVISIONER_GROUP }],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: PROVISIONER_POLICY, labels },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          matchPolicy: 'Equivalent',
          // Every resource and subresource the handlers could write to; the match condition narrows it to them.
          resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['*/*'], scope: '*' }],
        },
        ...policy,
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: PROVISIONER_POLICY, labels },
      spec: { policyName: PROVISIONER_POLICY, validationActions: ['Deny'] },
    },
  ];
}
