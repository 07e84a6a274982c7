import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { EdgeOriginRestriction, HostIngress, SecureOpenClawHost } from '../../src';
import { ingressRulesOf, resourcesOf, testApp } from '../util';

const SECRET = 'edge-secret-0123456789abcdef0123456789';
const EDGE: EdgeOriginRestriction = { prefixListId: 'pl-3b927c52', originHeaderName: 'x-origin-verify', originHeaderValue: SECRET };

function hostBehindLoadBalancer(allowedCidrs?: string[]) {
  const stack = new Stack(testApp(), 'Test');
  const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111122223333:certificate/abc');
  const host = new SecureOpenClawHost(stack, 'Host', {
    ingress: HostIngress.loadBalancer({ domainName: 'openclaw.example.com', certificate, allowedCidrs }),
  });
  return { stack, host };
}

function loadBalancerGroup(template: Template): string {
  return resourcesOf(template, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('HostLoadBalancerSecurityGroup'))![0];
}

describe('SecureOpenClawHost.restrictToEdge, the hook OpenClawEdge uses', () => {
  test('without an edge, allowedCidrs become one HTTPS rule each on the load balancer', () => {
    const { stack } = hostBehindLoadBalancer(['198.51.100.0/24', '203.0.113.0/24']);
    const template = Template.fromStack(stack);
    expect(ingressRulesOf(template, loadBalancerGroup(template)).map((r) => [r.CidrIp, r.FromPort, r.ToPort])).toEqual([
      ['198.51.100.0/24', 443, 443], ['203.0.113.0/24', 443, 443],
    ]);
  });

  test('the load balancer then admits HTTPS only from the edge\'s prefix list: every client rule is gone', () => {
    const { stack, host } = hostBehindLoadBalancer();
    host.restrictToEdge(EDGE);
    const template = Template.fromStack(stack);
    const rules = ingressRulesOf(template, loadBalancerGroup(template));
    expect(rules).toEqual([expect.objectContaining({ SourcePrefixListId: 'pl-3b927c52', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })]);
    expect(rules.some((r) => r.CidrIp !== undefined)).toBe(false);
  });

  test('the web ACL blocks a request without exactly the secret origin header before any other rule', () => {
    const { stack, host } = hostBehindLoadBalancer();
    host.restrictToEdge(EDGE);
    const [, acl] = resourcesOf(Template.fromStack(stack), 'AWS::WAFv2::WebACL')[0];
    const rules = acl.Properties.Rules;
    expect(rules[0]).toEqual(expect.objectContaining({
      Name: 'RequireEdgeOriginHeader',
      Priority: 0,
      Action: { Block: {} },
      Statement: {
        NotStatement: {
          Statement: {
            ByteMatchStatement: {
              FieldToMatch: { SingleHeader: { Name: 'x-origin-verify' } },
              PositionalConstraint: 'EXACTLY',
              SearchString: SECRET,
              TextTransformations: [{ Priority: 0, Type: 'NONE' }],
            },
          },
        },
      },
    }));
    // The other rules keep their order after it, with distinct priorities.
    expect(rules.slice(1).map((r: any) => r.Name)).toEqual(['RateLimitPerIp', 'AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet']);
    expect(rules.map((r: any) => r.Priority)).toEqual([0, 1, 2, 3, 4]);
  });

  test('a host without a load balancer cannot be fronted by an edge', () => {
    const stack = new Stack(testApp(), 'Test');
    const host = new SecureOpenClawHost(stack, 'Host');
    expect(() => host.restrictToEdge(EDGE)).toThrow(/^Test\/Host: restrictToEdge must be a host with HostIngress\.loadBalancer or HostIngress\.loadBalancerWithCognito.*got 'PRIVATE'/);
  });

  test('one edge per host', () => {
    const { host } = hostBehindLoadBalancer();
    host.restrictToEdge(EDGE);
    expect(() => host.restrictToEdge(EDGE)).toThrow(/restrictToEdge must be one edge in front of a host, got 'a second edge'/);
  });

  test.each([
    ['a prefix list id that is not one', { prefixListId: 'cloudfront' }, /restrictToEdge\.prefixListId must be a managed prefix list id.*got 'cloudfront'/],
    ['an upper-case header name', { originHeaderName: 'X-Origin-Verify' }, /restrictToEdge\.originHeaderName must be a lower-case header name.*got 'X-Origin-Verify'/],
    ['a header reserved by AWS', { originHeaderName: 'x-amz-verify' }, /restrictToEdge\.originHeaderName must be .*not start with x-amz, got 'x-amz-verify'/],
    ['a short secret', { originHeaderValue: 'short' }, /restrictToEdge\.originHeaderValue must be a secret of at least 32 characters, got '5 characters'/],
  ])('%s fails with the field, the value and what is allowed', (_name, change, message) => {
    const { host } = hostBehindLoadBalancer();
    expect(() => host.restrictToEdge({ ...EDGE, ...change })).toThrow(message);
  });
});
