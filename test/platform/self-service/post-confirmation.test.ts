import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { PROVISIONING_NOT_QUEUED, PostConfirmationEvent, createHandler } from '../../../src/platform/self-service/post-confirmation.lambda';

const sqsMock = mockClient(SQSClient);
const sqs = new SQSClient({ region: 'eu-west-1' });
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/openclaw-provisioning';
const handler = createHandler({ sqs, env: { QUEUE_URL } });

const event = (triggerSource: string): PostConfirmationEvent => ({
  version: '1',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_AbCdEfGhI',
  userName: '6b2f0a8e-0b1e-4f3e-9d3c-1e2f3a4b5c6d',
  triggerSource,
  request: { userAttributes: { 'sub': '6b2f0a8e-0b1e-4f3e-9d3c-1e2f3a4b5c6d', 'email': 'ann@example.com', 'email_verified': 'true', 'cognito:user_status': 'CONFIRMED' } },
  response: {},
});

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

test('a confirmed sign-up sends exactly one provisioning message (version 1, pool, user name, no e-mail) and returns the event unchanged', async () => {
  const input = event('PostConfirmation_ConfirmSignUp');
  const expected = structuredClone(input);
  const out = await handler(input);
  expect(out).toBe(input);
  expect(out).toEqual(expected);
  const calls = sqsMock.commandCalls(SendMessageCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0].args[0].input).toEqual({ QueueUrl: QUEUE_URL, MessageBody: expect.any(String) });
  expect(JSON.parse(calls[0].args[0].input.MessageBody!)).toEqual({ version: 1, userPoolId: 'eu-west-1_AbCdEfGhI', username: '6b2f0a8e-0b1e-4f3e-9d3c-1e2f3a4b5c6d' });
});

test.each(['PostConfirmation_ConfirmForgotPassword', 'PreSignUp_SignUp', ''])('%s is ignored: no message, the event comes back', async (source) => {
  const input = event(source);
  await expect(handler(input)).resolves.toBe(input);
  expect(sqsMock.calls()).toHaveLength(0);
});

test('when SendMessage fails the trigger throws a plain message (no SDK text), after one call', async () => {
  sqsMock.on(SendMessageCommand).rejects(Object.assign(new Error('Access to the resource https://sqs... is denied.'), { name: 'AccessDenied' }));
  const rejection = handler(event('PostConfirmation_ConfirmSignUp'));
  await expect(rejection).rejects.toThrow(PROVISIONING_NOT_QUEUED);
  await expect(rejection).rejects.not.toThrow(/denied|https/);
  expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(1);
  expect(jest.mocked(console.error).mock.calls[0][0]).toContain('AccessDenied');
});

test('without QUEUE_URL, or without a user name, the trigger throws instead of sending a useless message', async () => {
  await expect(createHandler({ sqs, env: {} })(event('PostConfirmation_ConfirmSignUp'))).rejects.toThrow(PROVISIONING_NOT_QUEUED);
  await expect(handler({ ...event('PostConfirmation_ConfirmSignUp'), userName: '' })).rejects.toThrow(PROVISIONING_NOT_QUEUED);
  expect(sqsMock.calls()).toHaveLength(0);
});
