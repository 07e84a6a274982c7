import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { HostIngress, SecureOpenClawHost } from 'cdk-openclaw';

/**
 * A gateway on the internet with no public origin: CloudFront and a CLOUDFRONT-scope WAF in front, reaching the
 * private instance through a VPC origin. The web ACL is managed in us-east-1 from the stack's region and the
 * certificate is requested there through the hosted zone.
 */
export class CloudFrontHostStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: 'Z0123456789EXAMPLE',
      zoneName: 'example.com',
    });
    new SecureOpenClawHost(this, 'OpenClaw', {
      ingress: HostIngress.cloudFront({
        domainName: 'openclaw.example.com',
        hostedZone: zone,
        firewall: { rateLimitPer5Minutes: 500, blockedCountries: ['KP'] },
      }),
      alarmEmails: ['ops@example.com'],
    });
  }
}

if (require.main === module) {
  const app = new App();
  new CloudFrontHostStack(app, 'OpenClawCloudFrontHost');
  app.synth();
}
