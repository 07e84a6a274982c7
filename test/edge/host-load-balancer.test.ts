import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { NAG_PACKS, runNagPacks } from '../../examples/ts/inspect';
import { EdgeOrigin, HostIngress, OpenClawEdge, SecureOpenClawHost } from '../../src';
import { ingressRulesOf, renderedConfig, resourcesOf, testApp, userDataText } from '../util';

const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/0b1c2d3e-0000-4000-8000-000000000000';

function edgeInFrontOfLoadBalancer(app: App = testApp(), headerRotation?: Duration) {
  const stack = new Stack(app, 'Test');
  const host = new SecureOpenClawHost(stack, 'Host', {
    ingress: HostIngress.loadBalancer({ domainName: 'origin.openclaw.example.com', certificate: acm.Certificate.fromCertificateArn(stack, 'AlbCert', CERT.replace('us-east-1', 'eu-west-1')) }),
  });
  const edge = new OpenClawEdge(stack, 'Edge', {
    origin: EdgeOrigin.hostLoadBalancer(host, { headerRotation }),
    domainName: 'openclaw.example.com',
    certificate: acm.Certificate.fromCertificateArn(stack, 'EdgeCert', CERT),
  });
  const template = Template.fromStack(stack);
  return { app, stack, host, edge, template };
}

describe('OpenClawEdge in front of a host\'s internet-facing load balancer', () => {
  const { template } = edgeInFrontOfLoadBalancer();
  const [secretId] = resourcesOf(template, 'AWS::SecretsManager::Secret').find(([id]) => id.startsWith('EdgeOriginHeader'))!;
  const dynamicReference = (value: unknown) => JSON.stringify(value).includes(secretId) && JSON.stringify(value).includes('SecretString:current');

  test('CloudFront sends the secret header (a Secrets Manager reference, never a literal) over HTTPS to the host\'s domain', () => {
    const [, distribution] = resourcesOf(template, 'AWS::CloudFront::Distribution')[0];
    const origin = distribution.Properties.DistributionConfig.Origins[0];
    expect(origin.DomainName).toBe('origin.openclaw.example.com');
    expect(origin.Id).toBe('openclaw-host-load-balancer');
    expect(origin.CustomOriginConfig).toEqual(expect.objectContaining({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] }));
    const [header] = origin.OriginCustomHeaders;
    expect(header.HeaderName).toBe('x-openclaw-origin-verify');
    expect(dynamicReference(header.HeaderValue)).toBe(true);
  });

  test('the load balancer admits HTTPS only from CloudFront\'s prefix list (looked up, not a literal) and no client range', () => {
    const [groupId] = resourcesOf(template, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('HostLoadBalancerSecurityGroup'))!;
    const rules = ingressRulesOf(template, groupId);
    expect(rules).toEqual([expect.objectContaining({ FromPort: 443, SourcePrefixListId: { 'Fn::GetAtt': [expect.stringMatching(/^CloudFrontOriginFacingPrefixList/), 'PrefixLists.0.PrefixListId'] } })]);
  });

  test('the origin cannot be reached without the header: the web ACL\'s first rule blocks every request lacking exactly its value', () => {
    const [, acl] = resourcesOf(template, 'AWS::WAFv2::WebACL')[0];
    const first = acl.Properties.Rules[0];
    expect(first.Priority).toBe(0);
    expect(first.Action).toEqual({ Block: {} });
    const match = first.Statement.NotStatement.Statement.ByteMatchStatement;
    expect(match).toEqual(expect.objectContaining({ FieldToMatch: { SingleHeader: { Name: 'x-openclaw-origin-verify' } }, PositionalConstraint: 'EXACTLY' }));
    expect(dynamicReference(match.SearchString)).toBe(true);
  });

  test('OpenClaw allows the edge\'s domain as a browser origin, next to the load balancer\'s name', () => {
    const config = renderedConfig(userDataText(template));
    expect(config.gateway.controlUi.allowedOrigins).toEqual(['https://origin.openclaw.example.com', 'https://openclaw.example.com']);
  });

  test('the header rotates every 30 days, not at deploy time, by a function that may touch only this secret, web ACL and distribution', () => {
    const [, schedule] = resourcesOf(template, 'AWS::SecretsManager::RotationSchedule')[0];
    expect(schedule.Properties).toEqual(expect.objectContaining({ RotationRules: { ScheduleExpression: 'rate(30 days)' }, RotateImmediatelyOnUpdate: false }));
    const [fnId, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('EdgeOriginHeaderRotation'))!;
    expect(schedule.Properties.RotationLambdaARN).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(expect.arrayContaining(['DISTRIBUTION_ID', 'ORIGIN_ID', 'HEADER_NAME', 'WEB_ACL_NAME', 'WEB_ACL_ID', 'RULE_NAME']));
    expect(fn.Properties.KmsKeyArn).toBeDefined();
    const [, policy] = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) => id.startsWith('EdgeOriginHeaderRotationServiceRoleDefaultPolicy'))!;
    const statements = policy.Properties.PolicyDocument.Statement;
    const byAction = (action: string) => statements.filter((s: any) => [s.Action].flat().includes(action));
    expect(JSON.stringify(byAction('wafv2:GetWebACL')[0].Resource)).toContain('Arn');
    expect(JSON.stringify(byAction('cloudfront:UpdateDistribution')[0].Resource)).toContain(':distribution/');
    expect(JSON.stringify(byAction('secretsmanager:PutSecretValue')[0].Resource)).toContain(secretId);
    for (const s of statements) expect([s.Action].flat().some((a: string) => a.endsWith(':*'))).toBe(false);
  });

  test('headerRotation sets the schedule', () => {
    const { template: t } = edgeInFrontOfLoadBalancer(testApp(), Duration.days(7));
    expect(resourcesOf(t, 'AWS::SecretsManager::RotationSchedule')[0][1].Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(7 days)' });
  });

  test('cdk-nag\'s packs report no unacknowledged finding', () => {
    const app = new App({ context: { 'aws:cdk:disable-asset-staging': true } });
    edgeInFrontOfLoadBalancer(app);
    app.synth();
    const findings = runNagPacks(app);
    for (const pack of NAG_PACKS) expect(findings[pack.name]).toEqual([]);
  });
});

describe('OpenClawEdge.hostLoadBalancer bad input fails at synth, naming the prop', () => {
  test.each<[string, (certificate: acm.ICertificate) => HostIngress, RegExp]>([
    ['a private host (no load balancer)', () => HostIngress.privateOnly(), /Test\/Edge: origin must be a host with HostIngress.loadBalancer.*got 'a host with ingress PRIVATE'/],
    ['a Cognito host (sign-in redirects bypass the edge)', (certificate) => HostIngress.loadBalancerWithCognito({ domainName: 'origin.example.com', certificate, cognitoDomainPrefix: 'openclaw-test' }),
      /origin must be a host with HostIngress.loadBalancer.*got 'a host with ingress LOAD_BALANCER_WITH_COGNITO'/],
  ])('%s', (_name, ingress, message) => {
    const stack = new Stack(testApp(), 'Test');
    const host = new SecureOpenClawHost(stack, 'Host', { ingress: ingress(acm.Certificate.fromCertificateArn(stack, 'C', CERT)) });
    expect(() => new OpenClawEdge(stack, 'Edge', { origin: EdgeOrigin.hostLoadBalancer(host) })).toThrow(message);
  });

  test('a rotation period in hours', () => {
    expect(() => edgeInFrontOfLoadBalancer(testApp(), Duration.hours(12))).toThrow(/origin.headerRotation must be a whole number of days from 1 to 1000.*got '12 hours'/);
  });
});
