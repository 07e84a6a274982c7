import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { allowCloudWatchAlarms } from './encryption';

/** Options of {@link alarmTopic}. @internal */
export interface AlarmTopicOptions {
  /** A topic of the user's: used as it is (its key policy is the user's). */
  readonly given?: sns.ITopic;
  /** E-mail addresses to subscribe (validated by the caller). */
  readonly emails?: string[];
}

/**
 * The topic a construct's alarms publish to: the one given, or a new one encrypted with `key`, whose policy then lets
 * CloudWatch alarms of this account publish; `emails` are subscribed either way.
 * @internal
 */
export function alarmTopic(scope: Construct, id: string, key: kms.IKey, options: AlarmTopicOptions = {}): sns.ITopic {
  let topic = options.given;
  if (!topic) {
    allowCloudWatchAlarms(key);
    topic = new sns.Topic(scope, id, { masterKey: key, enforceSSL: true });
  }
  for (const email of options.emails ?? []) topic.addSubscription(new subscriptions.EmailSubscription(email));
  return topic;
}
