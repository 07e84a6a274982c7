import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SecureOpenClawHost } from 'cdk-openclaw';

/**
 * The default shape: a private OpenClaw gateway reached with Session Manager port forwarding.
 * No inbound rule, no public address; Bedrock through the instance role.
 */
export class SingleHostStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    new SecureOpenClawHost(this, 'OpenClaw', {
      alarmEmails: ['ops@example.com'],
    });
  }
}

if (require.main === module) {
  const app = new App();
  new SingleHostStack(app, 'OpenClawSingleHost');
  app.synth();
}
