import { Duration, Size, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { GatewayAuth, GatewayBind, HostIngress, NatStrategy, OpenClawConfig, SecureOpenClawHost, SecureOpenClawHostProps } from '../../src';
import { testApp } from '../util';

function build(props: (stack: Stack) => SecureOpenClawHostProps): () => void {
  return () => {
    const stack = new Stack(testApp(), 'Bad');
    new SecureOpenClawHost(stack, 'Host', props(stack));
  };
}
const cert = (stack: Stack) => acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111122223333:certificate/abc');

/** Each bad input fails at synth with the construct path, the prop and what is allowed. */
const BAD_INPUTS: Array<[string, (stack: Stack) => SecureOpenClawHostProps, RegExp]> = [
  ['an instance type that is not family.size', () => ({ instanceType: new ec2.InstanceType('t3-small') }), /Bad\/Host: instanceType must be an EC2 instance type of the form family\.size.*got 't3-small'/],
  ['an instance too small for OpenClaw', () => ({ instanceType: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO) }), /instanceType must be an instance with at least 2 GiB of memory.*got 't3\.micro'/],
  ['a root volume under 8 GiB', () => ({ rootVolumeSize: Size.gibibytes(6) }), /rootVolumeSize must be a whole number of GiB from 8 to 16384, got '6 GiB'/],
  ['a root volume over the gp3 maximum', () => ({ rootVolumeSize: Size.gibibytes(20000) }), /rootVolumeSize must be a whole number of GiB from 8 to 16384/],
  ['a log retention that CloudWatch does not offer', () => ({ logRetention: 42 as logs.RetentionDays }), /logRetention must be a CloudWatch Logs retention in days .*got 42/],
  ['a Node.js major OpenClaw does not support', () => ({ nodeMajorVersion: 20 }), /nodeMajorVersion must be 24 or 26.*got 20/],
  ['an OpenClaw version range instead of an exact version', () => ({ openClawVersion: '^2026.9.0' }), /openClawVersion must be an exact npm version.*got '\^2026\.9\.0'/],
  ['backups kept less than a day', () => ({ backupRetention: Duration.hours(12) }), /backupRetention must be at least one day/],
  ['a NAT strategy together with a VPC passed in', (s) => ({ vpc: new ec2.Vpc(s, 'Vpc'), natStrategy: NatStrategy.INSTANCE }), /natStrategy must be unset when vpc is given/],
  ['a NAT strategy on the budget tier', () => ({ natStrategy: NatStrategy.GATEWAY, ingress: HostIngress.publicInstance({ allowedCidrs: ['203.0.113.0/24'] }) }), /natStrategy must be unset with HostIngress\.publicInstance/],
  ['an invalid CIDR on the budget tier', () => ({ ingress: HostIngress.publicInstance({ allowedCidrs: ['203.0.113.0/33'] }) }), /ingress\.allowedCidrs must be a list of IPv4 CIDR blocks.*got '203\.0\.113\.0\/33'/],
  ['the whole internet on the budget tier', () => ({ ingress: HostIngress.publicInstance({ allowedCidrs: ['0.0.0.0/0'] }) }), /ingress\.allowedCidrs must be your own networks.*got '0\.0\.0\.0\/0'/],
  ['no CIDR at all on the budget tier', () => ({ ingress: HostIngress.publicInstance({ allowedCidrs: [] }) }), /ingress\.allowedCidrs must be at least one IPv4 CIDR block/],
  ['an invalid CIDR in front of the load balancer', (s) => ({ ingress: HostIngress.loadBalancer({ domainName: 'openclaw.example.com', certificate: cert(s), allowedCidrs: ['10.0.0.0'] }) }), /ingress\.allowedCidrs must be a list of IPv4 CIDR blocks.*got '10\.0\.0\.0'/],
  ['a domain name that is not a DNS name', (s) => ({ ingress: HostIngress.loadBalancer({ domainName: 'https://openclaw.example.com', certificate: cert(s) }) }), /ingress\.domainName must be a lower-case DNS name/],
  ['a load balancer with neither certificate nor hosted zone', () => ({ ingress: HostIngress.loadBalancer({ domainName: 'openclaw.example.com' }) }), /ingress\.certificate must be an ACM certificate for the domain, or ingress\.hostedZone/],
  ['a WAF rate limit below the minimum', (s) => ({ ingress: HostIngress.loadBalancer({ domainName: 'openclaw.example.com', certificate: cert(s), firewall: { rateLimitPer5Minutes: 5 } }) }), /ingress\.firewall\.rateLimitPer5Minutes must be an integer from 10 to 2000000000, got 5/],
  ['a country that is not an ISO code', (s) => ({ ingress: HostIngress.loadBalancer({ domainName: 'openclaw.example.com', certificate: cert(s), firewall: { blockedCountries: ['North Korea'] } }) }), /ingress\.firewall\.blockedCountries must be ISO 3166-1 alpha-2 country codes.*got 'North Korea'/],
  ['a Cognito domain prefix Cognito refuses', (s) => ({ ingress: HostIngress.loadBalancerWithCognito({ domainName: 'openclaw.example.com', certificate: cert(s), cognitoDomainPrefix: 'my-aws-login' }) }), /ingress\.cognitoDomainPrefix must be lower-case letters, digits and hyphens/],
  ['token auth configured by hand together with Cognito', (s) => ({
    config: new OpenClawConfig({ gateway: { auth: GatewayAuth.none() } }),
    ingress: HostIngress.loadBalancerWithCognito({ domainName: 'openclaw.example.com', certificate: cert(s) }),
  }), /config\.gateway\.auth must be unset with HostIngress\.loadBalancerWithCognito.*got 'none'/],
  ['a tailnet bind behind the load balancer', (s) => ({
    config: new OpenClawConfig({ gateway: { bind: GatewayBind.TAILNET, controlUi: { enabled: false } } }),
    ingress: HostIngress.loadBalancer({ domainName: 'openclaw.example.com', certificate: cert(s) }),
  }), /config\.gateway\.bind must be unset or 'lan'/],
  ['Ollama without a checksum', () => ({ ollama: { version: 'v0.12.6', sha256: '' } }), /ollama\.sha256 must be the 64-hex-digit SHA-256 of the release tarball, got ''/],
  ['Ollama with a version that is not a release tag', () => ({ ollama: { version: 'latest', sha256: 'a'.repeat(64) } }), /ollama\.version must be a release tag such as v0\.12\.6, got 'latest'/],
  ['an alarm e-mail that is not an address', () => ({ alarmEmails: ['ops-at-example.com'] }), /alarmEmails must be e-mail addresses.*got 'ops-at-example\.com'/],
];

describe('SecureOpenClawHost rejects bad input at synth', () => {
  test.each(BAD_INPUTS)('%s', (_name, props, message) => {
    expect(build(props)).toThrow(message);
  });

  test('the catalogue has at least 15 cases', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(15);
  });
});
