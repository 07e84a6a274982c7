import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { HostIngress, SecureOpenClawHost } from 'cdk-openclaw';

/**
 * The budget tier: the instance in a public subnet with an Elastic IP, no NAT and no load balancer; TLS on the
 * instance and only the operator's network admitted. See docs/single-host.md for what this gives up.
 */
export class BudgetHostStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    new SecureOpenClawHost(this, 'OpenClaw', {
      ingress: HostIngress.publicInstance({ allowedCidrs: ['203.0.113.0/24'] }),
    });
  }
}

if (require.main === module) {
  const app = new App();
  new BudgetHostStack(app, 'OpenClawBudgetHost');
  app.synth();
}
