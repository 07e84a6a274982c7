import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { BedrockAudit, HostIngress, SecureOpenClawHost } from 'cdk-openclaw';

/**
 * A team gateway on the internet: HTTPS load balancer with WAF; Cognito signs users in and OpenClaw trusts the
 * identity the load balancer passes on. Agent data on EFS so it survives instance replacement. Every Bedrock call of
 * the account is recorded in an audit trail with alarms, and each call's token counts in model invocation logs.
 */
export class AlbCognitoStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: 'Z0123456789EXAMPLE',
      zoneName: 'example.com',
    });
    new SecureOpenClawHost(this, 'OpenClaw', {
      ingress: HostIngress.loadBalancerWithCognito({
        domainName: 'openclaw.example.com',
        hostedZone: zone,
        cognitoDomainPrefix: 'example-openclaw',
        firewall: { rateLimitPer5Minutes: 500, blockedCountries: ['KP'] },
      }),
      persistentAgentData: true,
      alarmEmails: ['ops@example.com'],
      bedrockAudit: BedrockAudit.newTrail({
        cloudWatchLogs: true,
        modelInvocationLogging: { cloudWatchLogs: true },
      }),
    });
  }
}

if (require.main === module) {
  const app = new App();
  new AlbCognitoStack(app, 'OpenClawAlbCognito');
  app.synth();
}
