/**
 * A host behind OpenClawEdge (HostIngress.cloudFront), deployed from a region other than us-east-1 so that the web
 * ACL is created across regions. Deploying it needs a public hosted zone you own: set OPENCLAW_INTEG_ZONE_ID and
 * OPENCLAW_INTEG_ZONE_NAME (the snapshot uses example values). On a real deploy the assertions check that the
 * distribution answers /healthz with 200 through the web ACL, that the instance has no public address (there is no
 * origin to reach directly), and that the distribution carries the web ACL created in us-east-1; and for a host's
 * internet-facing load balancer behind the edge, that the edge answers and a direct request to the load balancer
 * is refused.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { EdgeOrigin, HostIngress, OpenClawEdge, SecureOpenClawHost } from 'cdk-openclaw';

const zoneId = process.env.OPENCLAW_INTEG_ZONE_ID ?? 'Z0123456789EXAMPLE';
const zoneName = process.env.OPENCLAW_INTEG_ZONE_NAME ?? 'example.com';
const domainName = `openclaw-edge-integ.${zoneName}`;

const app = new App();
const stack = new Stack(app, 'OpenClawIntegEdge');
const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: zoneId, zoneName });
const host = new SecureOpenClawHost(stack, 'Host', {
  ingress: HostIngress.cloudFront({ domainName, hostedZone: zone, firewall: { rateLimitPer5Minutes: 300 } }),
});

// The second shape: a host's internet-facing load balancer as the origin, locked by the prefix list and the secret
// header. A direct request to the load balancer's own name must be refused.
const lbStack = new Stack(app, 'OpenClawIntegEdgeLoadBalancer');
const lbZone = route53.HostedZone.fromHostedZoneAttributes(lbStack, 'Zone', { hostedZoneId: zoneId, zoneName });
const originName = `openclaw-origin-integ.${zoneName}`;
const lbHost = new SecureOpenClawHost(lbStack, 'Host', { ingress: HostIngress.loadBalancer({ domainName: originName, hostedZone: lbZone }) });
const lbEdgeName = `openclaw-edge-lb-integ.${zoneName}`;
new OpenClawEdge(lbStack, 'Edge', { origin: EdgeOrigin.hostLoadBalancer(lbHost), domainName: lbEdgeName, hostedZone: lbZone });

const integ = new IntegTest(app, 'Edge', { testCases: [stack, lbStack], regions: ['eu-west-1'] });

integ.assertions
  .httpApiCall(`https://${lbEdgeName}/healthz`)
  .expect(ExpectedResult.objectLike({ status: 200 }))
  .waitForAssertions({ totalTimeout: Duration.minutes(25), interval: Duration.seconds(30) });

// Straight to the load balancer is refused before any byte reaches it: its only inbound rule is HTTPS from
// CloudFront's prefix list, no address range at all (a request from here would only time out).
integ.assertions
  .awsApiCall('EC2', 'describeSecurityGroups', { GroupIds: [lbHost.loadBalancer!.connections.securityGroups[0].securityGroupId] })
  .expect(ExpectedResult.objectLike({ SecurityGroups: [{ IpPermissions: [{ FromPort: 443, ToPort: 443, IpRanges: [], Ipv6Ranges: [] }] }] }));

integ.assertions
  .httpApiCall(`https://${domainName}/healthz`)
  .expect(ExpectedResult.objectLike({ status: 200 }))
  .waitForAssertions({ totalTimeout: Duration.minutes(25), interval: Duration.seconds(30) });

// There is no origin to reach directly: the instance has no public name or address.
integ.assertions
  .awsApiCall('EC2', 'describeInstances', { InstanceIds: [host.instance.instanceId] })
  .expect(ExpectedResult.objectLike({ Reservations: [{ Instances: [{ PublicDnsName: '' }] }] }));

// The distribution is protected by the web ACL the stack created in us-east-1.
integ.assertions
  .awsApiCall('CloudFront', 'getDistribution', { Id: host.edge!.distribution.distributionId })
  .expect(ExpectedResult.objectLike({ Distribution: { DistributionConfig: { WebACLId: host.edge!.webAclArn } } }));
