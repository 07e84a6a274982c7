/**
 * The user pool's post confirmation trigger: once a new user has confirmed the account (`PostConfirmation_ConfirmSignUp`,
 * which Cognito also sends for AdminConfirmSignUp), ask for the user's tenant by putting one message on the
 * provisioning queue. A confirmed password reset (`PostConfirmation_ConfirmForgotPassword`) is ignored.
 *
 * Cognito waits at most 5 s for the trigger, so this is one SendMessage with the SDK's default retries and nothing
 * else: the provisioner looks the user up itself (the message carries no authority) and does the slow work.
 *
 * When SendMessage fails the trigger throws, and Cognito reports the confirmation as failed to the client. Nothing is
 * lost either way: the session API re-queues provisioning when a user without a tenant record first signs in (which
 * also covers users an administrator created: Cognito runs this trigger only for users who signed up themselves).
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ENV, ProvisionMessage } from './contract';

/**
 * The parts of Cognito's post confirmation event the trigger reads; the event is returned untouched.
 * @internal
 */
export interface PostConfirmationEvent {
  readonly version?: string;
  readonly triggerSource: string;
  readonly region?: string;
  readonly userPoolId: string;
  readonly userName: string;
  readonly request?: { readonly userAttributes?: Record<string, string> };
  readonly response?: Record<string, unknown>;
}

/**
 * What the trigger works with; tests pass their own.
 * @internal
 */
export interface PostConfirmationDeps {
  readonly sqs: SQSClient;
  /** The environment (read on every call); `process.env` by default. */
  readonly env?: Record<string, string | undefined>;
}

/** The message for the person confirming when the request could not be queued. @internal */
export const PROVISIONING_NOT_QUEUED = 'Setting up your workspace could not start; sign in to try again.';

/**
 * The trigger, over the given client (the deployed `handler` uses the default).
 * @internal
 */
export function createHandler(deps: PostConfirmationDeps): (event: PostConfirmationEvent) => Promise<PostConfirmationEvent> {
  return async (event) => {
    if (event?.triggerSource !== 'PostConfirmation_ConfirmSignUp') return event;
    const queueUrl = (deps.env ?? process.env)[ENV.QUEUE_URL];
    if (!queueUrl || typeof event.userPoolId !== 'string' || !event.userPoolId || typeof event.userName !== 'string' || !event.userName) {
      console.error(JSON.stringify({ message: 'provisioning not queued', reason: queueUrl ? 'the event has no user pool or user name' : `${ENV.QUEUE_URL} is not set` }));
      throw new Error(PROVISIONING_NOT_QUEUED);
    }
    const message: ProvisionMessage = { version: 1, userPoolId: event.userPoolId, username: event.userName };
    try {
      await deps.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    } catch (error) {
      console.error(JSON.stringify({
        message: 'provisioning not queued',
        userName: event.userName,
        error: { name: (error as { name?: unknown })?.name, message: String((error as { message?: unknown })?.message ?? error) },
      }));
      throw new Error(PROVISIONING_NOT_QUEUED);
    }
    return event;
  };
}

/** Cognito's post confirmation trigger. */
export const handler = createHandler({ sqs: new SQSClient({}) });
