/**
 * Cluster-wide Kubernetes objects of the tenant platform: network policy enforcement on EKS Auto Mode, the node
 * pool tenants run in, the platform's own namespace and the StorageClass of tenant volumes.
 */
import { SYSTEM_NAMESPACE } from './tenant-spec';

/** The StorageClass of tenant volumes. */
export const STORAGE_CLASS_NAME = 'openclaw-efs';

/** The node class and node pool every platform workload runs in. */
export const NODE_POOL_NAME = 'openclaw';

export interface NodeClassOptions {
  readonly nodeRoleName: string;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
}

/**
 * On EKS Auto Mode, network policies are enforced only once the VPC CNI's policy controller is switched on and only
 * on nodes whose node class enables them. The platform's node pool uses such a class, and the cluster keeps no
 * other general-purpose pool (only Auto Mode's `system` pool, tainted for critical add-ons), so no tenant pod can
 * land on a node that ignores its policies.
 */
export function networkPolicyObjects(o: NodeClassOptions): any[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
      data: { 'enable-network-policy-controller': 'true' },
    },
    {
      apiVersion: 'eks.amazonaws.com/v1',
      kind: 'NodeClass',
      metadata: { name: NODE_POOL_NAME },
      spec: {
        role: o.nodeRoleName,
        subnetSelectorTerms: o.subnetIds.map((id) => ({ id })),
        securityGroupSelectorTerms: [{ id: o.securityGroupId }],
        networkPolicy: 'DefaultAllow',
        networkPolicyEventLogs: 'Enabled',
        ephemeralStorage: { size: '80Gi' },
      },
    },
    {
      apiVersion: 'karpenter.sh/v1',
      kind: 'NodePool',
      metadata: { name: NODE_POOL_NAME },
      spec: {
        template: {
          spec: {
            nodeClassRef: { group: 'eks.amazonaws.com', kind: 'NodeClass', name: NODE_POOL_NAME },
            requirements: [
              { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
              { key: 'eks.amazonaws.com/instance-category', operator: 'In', values: ['c', 'm', 'r'] },
              { key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] },
            ],
            // Nodes are replaced every two weeks at the latest, so they always run a recent Auto Mode image.
            expireAfter: '336h',
          },
        },
        // Only empty nodes are consolidated: moving a tenant's single gateway to pack nodes tighter would be an outage.
        disruption: { consolidationPolicy: 'WhenEmpty', consolidateAfter: '10m' },
      },
    },
  ];
}

/** The platform's own namespace (the router runs there), held to Pod Security restricted like the tenants. */
export const PLATFORM_NAMESPACE_OBJECTS: any[] = [{
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name: SYSTEM_NAMESPACE,
    labels: {
      'app.kubernetes.io/part-of': 'openclaw',
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    },
  },
}];

/**
 * Tenant volumes: one EFS access point per claim, rooted at `/tenants/<namespace>` and owned by the gateway user
 * (1000:1000, mode 700). The directory is named after the namespace, so a tenant removed and added again finds its
 * state; claims are retained, and mounts use TLS and IAM.
 */
export function storageClass(fileSystemId: string): any {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: STORAGE_CLASS_NAME },
    provisioner: 'efs.csi.aws.com',
    reclaimPolicy: 'Retain',
    volumeBindingMode: 'Immediate',
    mountOptions: ['tls', 'iam'],
    parameters: {
      provisioningMode: 'efs-ap',
      fileSystemId,
      directoryPerms: '700',
      uid: '1000',
      gid: '1000',
      basePath: '/tenants',
      subPathPattern: '${.PVC.namespace}',
      ensureUniqueDirectory: 'false',
    },
  };
}
