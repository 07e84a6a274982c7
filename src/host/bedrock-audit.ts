import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BedrockAuditTrail, BedrockAuditTrailProps } from '../audit/bedrock-audit-trail';

/** What the host hands to its audit option. @internal */
export interface BedrockAuditBinding {
  readonly key: kms.IKey;
  readonly role: iam.IRole;
  readonly alarmTopic: sns.ITopic;
}

/**
 * How `SecureOpenClawHost` records its Amazon Bedrock calls: in a `BedrockAuditTrail` it creates, or in one that
 * exists elsewhere in the app (one trail serves every host of an account). Either way the host's role becomes an
 * expected caller, so the saved query of unexpected callers shows everyone else.
 */
export abstract class BedrockAudit {
  /**
   * A new trail inside the host: encrypted with the host's key and alarming to the host's topic unless `props`
   * say otherwise. A trail records the whole account's Bedrock calls, so create one per account.
   */
  public static newTrail(props: BedrockAuditTrailProps = {}): BedrockAudit {
    return new (class extends BedrockAudit {
      public _bind(scope: Construct, host: BedrockAuditBinding): BedrockAuditTrail {
        const trail = new BedrockAuditTrail(scope, 'BedrockAudit', {
          ...props,
          encryptionKey: props.encryptionKey ?? host.key,
          alarmTopic: props.alarmTopic ?? host.alarmTopic,
        });
        trail.addExpectedPrincipal(host.role.roleArn);
        return trail;
      }
    })();
  }

  /** A trail defined elsewhere in the app; the host's role is added to its expected callers. */
  public static existingTrail(trail: BedrockAuditTrail): BedrockAudit {
    return new (class extends BedrockAudit {
      public _bind(_scope: Construct, host: BedrockAuditBinding): BedrockAuditTrail {
        trail.addExpectedPrincipal(host.role.roleArn);
        return trail;
      }
    })();
  }

  /** @internal */
  public abstract _bind(scope: Construct, host: BedrockAuditBinding): BedrockAuditTrail;
}
