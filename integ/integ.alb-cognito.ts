/**
 * The load balancer + Cognito shape. Deploying it needs a public hosted zone you own: set
 * OPENCLAW_INTEG_ZONE_ID and OPENCLAW_INTEG_ZONE_NAME (the snapshot uses example values). On a real deploy the
 * assertion waits until the target group reports the gateway healthy on /healthz.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { HostIngress, SecureOpenClawHost } from 'cdk-openclaw';

const zoneId = process.env.OPENCLAW_INTEG_ZONE_ID ?? 'Z0123456789EXAMPLE';
const zoneName = process.env.OPENCLAW_INTEG_ZONE_NAME ?? 'example.com';

const app = new App();
const stack = new Stack(app, 'OpenClawIntegAlbCognito');
const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: zoneId, zoneName });
const host = new SecureOpenClawHost(stack, 'Host', {
  ingress: HostIngress.loadBalancerWithCognito({
    domainName: `openclaw-integ.${zoneName}`,
    hostedZone: zone,
    cognitoDomainPrefix: 'openclaw-integ-signin',
  }),
});

const integ = new IntegTest(app, 'AlbCognito', { testCases: [stack] });
integ.assertions
  .awsApiCall('ElasticLoadBalancingV2', 'describeTargetHealth', {
    TargetGroupArn: host.targetGroup!.targetGroupArn,
  })
  .expect(ExpectedResult.objectLike({ TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }] }))
  .waitForAssertions({ totalTimeout: Duration.minutes(25), interval: Duration.seconds(30) });
