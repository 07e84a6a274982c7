import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { NAG_PACKS, runNagPacks } from '../../examples/ts/inspect';
import { CloudFrontIngressOptions, HostIngress, SecureOpenClawHost } from '../../src';
import { ingressRulesOf, renderedConfig, resourcesOf, synthHost, testApp, userDataText } from '../util';

const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/0b1c2d3e-0000-4000-8000-000000000000';

function hostBehindCloudFront(options: (stack: Stack) => Partial<CloudFrontIngressOptions> = (s) => ({ certificate: acm.Certificate.fromCertificateArn(s, 'Cert', CERT) }), app: App = testApp()) {
  const stack = new Stack(app, 'Test');
  const host = new SecureOpenClawHost(stack, 'Host', {
    ingress: HostIngress.cloudFront({ domainName: 'openclaw.example.com', ...options(stack) }),
  });
  const template = Template.fromStack(stack);
  return { app, stack, host, template };
}

describe('SecureOpenClawHost with HostIngress.cloudFront', () => {
  const { stack, host, template } = hostBehindCloudFront();

  test('no load balancer and no public address: the instance stays in a private subnet behind a VPC origin', () => {
    expect(resourcesOf(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toEqual([]);
    expect(resourcesOf(template, 'AWS::EC2::EIP').filter(([id]) => id.startsWith('Host') && !id.includes('Vpc'))).toEqual([]);
    const [, instance] = resourcesOf(template, 'AWS::EC2::Instance')[0];
    expect(JSON.stringify(instance.Properties)).toContain('PrivateSubnet');
    expect(JSON.stringify(instance.Properties)).not.toContain('PublicSubnet');
    const [, origin] = resourcesOf(template, 'AWS::CloudFront::VpcOrigin')[0];
    expect(origin.Properties.VpcOriginEndpointConfig).toEqual(expect.objectContaining({ HTTPPort: 18789, OriginProtocolPolicy: 'http-only' }));
    expect(host.edge).toBeDefined();
    expect(host.loadBalancer).toBeUndefined();
  });

  test('the instance\'s only inbound rule is the gateway port from CloudFront\'s origin-facing prefix list', () => {
    const groupId = stack.resolve((host.securityGroup.node.defaultChild as ec2.CfnSecurityGroup).logicalId);
    const fromPrefixList = { 'Fn::GetAtt': [expect.stringMatching(/^CloudFrontOriginFacingPrefixList/), 'PrefixLists.0.PrefixListId'] };
    expect(ingressRulesOf(template, groupId)).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 18789, ToPort: 18789, SourcePrefixListId: fromPrefixList })]);
  });

  test('OpenClaw listens on the VPC address without TLS, trusts only its private subnets, and allows the custom domain as browser origin', () => {
    const config = renderedConfig(userDataText(template));
    expect(config.gateway.bind).toBe('lan');
    expect(config.gateway.tls).toBeUndefined();
    expect(config.gateway.controlUi.allowedOrigins).toEqual(['https://openclaw.example.com']);
    const privateCidrs = host.vpc.privateSubnets.map((s) => s.ipv4CidrBlock);
    expect(config.gateway.trustedProxies).toHaveLength(privateCidrs.length);
    expect(config.gateway.auth.mode).toBe('token');
  });

  test('the distribution serves the custom domain with the given us-east-1 certificate and the web ACL', () => {
    const [, distribution] = resourcesOf(template, 'AWS::CloudFront::Distribution')[0];
    expect(distribution.Properties.DistributionConfig.Aliases).toEqual(['openclaw.example.com']);
    expect(distribution.Properties.DistributionConfig.ViewerCertificate.AcmCertificateArn).toBe(CERT);
    expect(distribution.Properties.DistributionConfig.WebACLId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^HostEdgeWebAcl/), 'Arn'] });
  });

  test('the edge shares the host key: one key in the stack', () => {
    expect(resourcesOf(template, 'AWS::KMS::Key')).toHaveLength(1);
  });

  test('the cost estimate adds the edge\'s lines and no load balancer', () => {
    const items = host.estimatedMonthlyCost.items.map((i) => i.item);
    expect(items).toEqual(expect.arrayContaining(['Edge: WAF web ACL (4 rules)', 'Edge: CloudFront data out']));
    expect(items.some((i) => i.includes('load balancer'))).toBe(false);
    expect(items.filter((i) => i.includes('KMS key'))).toEqual(['KMS key']);
  });

  test('docs/single-host.md states the estimate of this shape, rounded to the dollar', () => {
    const docs = readFileSync(join(__dirname, '..', '..', 'docs', 'single-host.md'), 'utf8');
    const section = docs.slice(docs.indexOf('### CloudFront: `HostIngress.cloudFront'));
    const stated = /\*\*About (\d+) USD a month\*\*/.exec(section);
    expect(Number(stated![1])).toBe(Math.round(host.estimatedMonthlyCost.totalMonthlyUsd));
  });

  test('restrictToEdge is refused: there is no load balancer to restrict', () => {
    expect(() => host.restrictToEdge({ prefixListId: 'pl-1', originHeaderName: 'x-origin-verify', originHeaderValue: 'x'.repeat(32) }))
      .toThrow(/restrictToEdge must be a host with HostIngress.loadBalancer or HostIngress.loadBalancerWithCognito/);
  });
});

describe('SecureOpenClawHost with HostIngress.cloudFront and a hosted zone', () => {
  test('without a certificate, one is requested in us-east-1 and validated in the zone; A and AAAA aliases point at the distribution', () => {
    const { template } = hostBehindCloudFront((s) => ({ hostedZone: route53.HostedZone.fromHostedZoneAttributes(s, 'Zone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'example.com' }) }));
    const [, certificate] = resourcesOf(template, 'AWS::CloudFormation::CustomResource').find(([id]) => id.includes('Certificate'))!;
    expect(certificate.Properties).toEqual(expect.objectContaining({ DomainName: 'openclaw.example.com', Region: 'us-east-1', HostedZoneId: 'Z0123456789EXAMPLE' }));
    expect(resourcesOf(template, 'AWS::Route53::RecordSet').map(([, r]) => r.Properties.Type).sort()).toEqual(['A', 'AAAA']);
  });

  test('a domain without certificate or zone fails at synth, naming the prop', () => {
    expect(() => hostBehindCloudFront(() => ({}))).toThrow(/Test\/Host\/Edge: certificate must be a certificate in us-east-1 for openclaw.example.com, or hostedZone to validate a new one/);
  });
});

describe('SecureOpenClawHost with HostIngress.cloudFront, cdk-nag', () => {
  test.each([
    ['a certificate passed in', (s: Stack) => ({ certificate: acm.Certificate.fromCertificateArn(s, 'Cert', CERT) })],
    ['a certificate requested through the zone, Bot Control', (s: Stack) => ({
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(s, 'Zone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'example.com' }),
      firewall: { botControl: true },
    })],
  ])('the four packs report no unacknowledged finding (%s)', (_name, options) => {
    const app = new App({ context: { 'aws:cdk:disable-asset-staging': true } });
    hostBehindCloudFront(options, app);
    app.synth();
    const findings = runNagPacks(app);
    for (const pack of NAG_PACKS) expect(findings[pack.name]).toEqual([]);
  });
});

test('the other shapes have no edge', () => {
  expect(synthHost().host.edge).toBeUndefined();
});
