/**
 * Two tenants as OpenClawTenantPlatform renders them (the same renderer the construct and the provisioning function
 * use), over a sample platform: the manifests the Kubernetes oracles judge until the platform's reference app
 * brings its own. The sample VPC is 10.0.0.0/16, as oracles/connectivity.yaml expects.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as YAML from 'yaml';
import { GatewayBind, OpenClawConfig } from '../../src/openclaw';
import { PlatformSpec, renderTenant } from '../../src/platform/tenant-manifests';
import { DEFAULT_BUDGET_USD, DEFAULT_GATEWAY_RESOURCES, DEFAULT_TENANT_QUOTA, TenantSpec } from '../../src/platform/tenant-spec';

/** The sample platform: us-east-1, a pinned image, the default gateway resources and hardened configuration. */
export function samplePlatform(): PlatformSpec {
  const stack = new Stack(new App(), 'Sample', { env: { region: 'us-east-1' } });
  const config = new OpenClawConfig({
    gateway: { bind: GatewayBind.LAN, trustedProxies: ['10.0.0.0/16'], controlUi: { allowedOrigins: ['https://openclaw.example.com'] } },
  });
  return {
    image: 'ghcr.io/openclaw/openclaw:2026.9.6@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    command: ['node', '/app/dist/index.js', 'gateway', 'run'],
    region: 'us-east-1',
    vpcCidr: '10.0.0.0/16',
    publicOrigin: 'https://openclaw.example.com',
    routerPodLabels: { 'app.kubernetes.io/name': 'openclaw-router' },
    storageClassName: 'openclaw-efs',
    storageSize: '10Gi',
    gatewayResources: DEFAULT_GATEWAY_RESOURCES,
    openclawConfig: config._toObject(stack),
  };
}

/** A tenant with seed 001's defaults. */
export function sampleTenant(name: string): TenantSpec {
  return { name, ...DEFAULT_TENANT_QUOTA, budgetUsd: DEFAULT_BUDGET_USD };
}

/** One tenant's objects as a multi-document YAML file. */
export function sampleTenantYaml(name: string): string {
  return renderTenant(sampleTenant(name), samplePlatform()).objects.map((o) => YAML.stringify(o, { lineWidth: 0 })).join('---\n');
}

/**
 * The other workloads the connectivity check needs: the router the tenants admit, and a bystander in the same
 * namespace (no router label) that they must not admit.
 */
export function neighboursYaml(): string {
  const deployment = (name: string, labels: Record<string, string>) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'openclaw-system' },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name, image: 'registry.example/stand-in:1' }] } },
    },
  });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'openclaw-system' } },
    deployment('router', samplePlatform().routerPodLabels),
    deployment('bystander', { 'app.kubernetes.io/name': 'bystander' }),
  ].map((o) => YAML.stringify(o)).join('---\n');
}
