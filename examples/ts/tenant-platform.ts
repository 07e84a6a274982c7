import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { BudgetEnforcement, OpenClawTenantPlatform } from 'cdk-openclaw';

/**
 * Multi-tenant OpenClaw on EKS: one gateway per tenant in its own namespace, reached at
 * `https://tenants.example.com/t/<tenant>/` through CloudFront and its web ACL (the certificate is requested in
 * us-east-1 through the hosted zone). Two tenants are declared in code; people of example.com sign up for more.
 *
 * The kubectl layer: a published layer when the context value `kubectlLayerArn` is set (the way Java users supply
 * it, since Maven Central has no build of it), otherwise `KubectlV35Layer` from @aws-cdk/lambda-layer-kubectl-v35.
 */
export class TenantPlatformStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const layerArn: string | undefined = this.node.tryGetContext('kubectlLayerArn');
    const kubectlLayer = layerArn
      ? lambda.LayerVersion.fromLayerVersionArn(this, 'KubectlLayer', layerArn)
      : new KubectlV35Layer(this, 'KubectlLayer');
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: 'Z0123456789EXAMPLE',
      zoneName: 'example.com',
    });
    const platform = new OpenClawTenantPlatform(this, 'Platform', {
      edge: { domainName: 'tenants.example.com', hostedZone: zone },
      kubectlLayer,
      image: { tag: '2026.9.6', digest: 'sha256:0e5f0c1b9f4e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c' },
      routerImage: { tag: '1.30.4-alpine', digest: 'sha256:4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b' },
      alarmEmails: ['ops@example.com'],
      // Self-service: example.com addresses sign up at /auth/ and get their own gateway (docs/self-service.md).
      selfService: { allowedEmailDomains: ['example.com'] },
      // Budgets (on by default): measured hourly from Bedrock's invocation logs; at 100 % a tenant's Bedrock calls
      // are denied until the month ends or its budget is raised (docs/budgets.md).
      budgets: { enforcement: BudgetEnforcement.BLOCK, alertEmails: ['finops@example.com'] },
    });
    platform.addTenant('acme');
    platform.addTenant('globex', { budgetUsd: 250, memory: '16Gi' });
  }
}

if (require.main === module) {
  const app = new App();
  new TenantPlatformStack(app, 'OpenClawTenantPlatform');
  app.synth();
}
