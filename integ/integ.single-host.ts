/**
 * The default host: private, reached only through Session Manager. On a real deploy the assertions wait until
 * the SSM agent reports the instance online and the gateway answers /healthz on the instance itself.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { SecureOpenClawHost } from 'cdk-openclaw';

const app = new App();
const stack = new Stack(app, 'OpenClawIntegSingleHost');
const host = new SecureOpenClawHost(stack, 'Host');

const integ = new IntegTest(app, 'SingleHost', { testCases: [stack] });

integ.assertions
  .awsApiCall('SSM', 'describeInstanceInformation', {
    Filters: [{ Key: 'InstanceIds', Values: [host.instance.instanceId] }],
  })
  .expect(ExpectedResult.objectLike({ InstanceInformationList: [{ PingStatus: 'Online' }] }))
  .waitForAssertions({ totalTimeout: Duration.minutes(20), interval: Duration.seconds(30) });

const probe = integ.assertions.awsApiCall('SSM', 'sendCommand', {
  DocumentName: 'AWS-RunShellScript',
  InstanceIds: [host.instance.instanceId],
  Parameters: { commands: ['systemctl is-active openclaw', 'curl --silent --fail http://127.0.0.1:18789/healthz'] },
});
integ.assertions
  .awsApiCall('SSM', 'getCommandInvocation', {
    CommandId: probe.getAttString('Command.CommandId'),
    InstanceId: host.instance.instanceId,
  })
  .expect(ExpectedResult.objectLike({ Status: 'Success' }))
  .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(20) });
