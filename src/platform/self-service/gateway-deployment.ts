/**
 * A self-service tenant's gateway Deployment, as the handlers that touch it (token rotation, deprovisioning) refer
 * to it. Handler-only (bundled by those handlers; the construct never loads it); apart from handler-util.ts because it
 * needs the tenant renderer's module, which the handlers without a cluster client (session, pre sign-up) need not
 * bundle.
 * @internal
 */
import { GATEWAY_NAME } from '../tenant-manifests';
import { tenantNamespace } from '../tenant-spec';
import { KubeRef } from './contract';

/** A tenant's gateway Deployment. @internal */
export function gatewayDeploymentRef(tenant: string): KubeRef {
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: GATEWAY_NAME, namespace: tenantNamespace(tenant) };
}

/** A partial object of a tenant's gateway Deployment for a server-side apply: its identity and the given `spec`. @internal */
export function gatewayDeploymentPatch(tenant: string, spec: unknown): any {
  const ref = gatewayDeploymentRef(tenant);
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace }, spec };
}
