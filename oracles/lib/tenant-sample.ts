/**
 * Two tenants as OpenClawTenantPlatform renders them (the same renderer the construct and the provisioning function
 * use), over a sample platform: the manifests the Kubernetes oracles judge until the platform's reference app
 * brings its own. The sample VPC is 10.0.0.0/16, as oracles/connectivity.yaml expects.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as YAML from 'yaml';
import { GatewayBind, OpenClawConfig } from '../../src/openclaw';
import { PLATFORM_NAMESPACE_OBJECTS } from '../../src/platform/cluster-objects';
import { renderRouter, ROUTER_POD_LABELS } from '../../src/platform/router-manifests';
import { PlatformSpec, renderTenant } from '../../src/platform/tenant-manifests';
import { DEFAULT_BUDGET_USD, DEFAULT_GATEWAY_RESOURCES, DEFAULT_TENANT_QUOTA, TenantSpec } from '../../src/platform/tenant-spec';

/** The sample platform: us-east-1, a pinned image, the default gateway resources, hardened configuration and a Bedrock role. */
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
    serviceCidr: '172.20.0.0/16',
    clusterDnsIp: '172.20.0.10',
    publicOrigin: 'https://openclaw.example.com',
    routerPodLabels: ROUTER_POD_LABELS,
    storageClassName: 'openclaw-efs',
    storageSize: '10Gi',
    gatewayResources: DEFAULT_GATEWAY_RESOURCES,
    openclawConfig: config._toObject(stack),
    bedrockRoleArn: 'arn:aws:iam::123456789012:role/openclaw-bedrock',
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

/** The router as the platform renders it, over the sample platform. */
export function routerYaml(): string {
  const objects = [
    ...PLATFORM_NAMESPACE_OBJECTS,
    ...renderRouter({
      image: 'public.ecr.aws/nginx/nginx-unprivileged:1.30.4-alpine@sha256:1111111111111111111111111111111111111111111111111111111111111111',
      vpcCidr: '10.0.0.0/16',
      replicas: 2,
      clusterDnsIp: '172.20.0.10',
    }),
  ];
  return objects.map((o) => YAML.stringify(o, { lineWidth: 0 })).join('---\n');
}

/**
 * A workload in the router's namespace without the router's labels, allowed to send anywhere (as a workload added
 * there later might be): the tenants' own policies must keep it out, whatever the system namespace allows.
 */
export function bystanderYaml(): string {
  const labels = { 'app.kubernetes.io/name': 'bystander' };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bystander', namespace: 'openclaw-system' },
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'bystander', image: 'registry.example/stand-in:1' }] } },
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'bystander-egress-anywhere', namespace: 'openclaw-system' },
      spec: { podSelector: { matchLabels: labels }, policyTypes: ['Egress'], egress: [{}] },
    },
  ].map((o) => YAML.stringify(o)).join('---\n');
}
