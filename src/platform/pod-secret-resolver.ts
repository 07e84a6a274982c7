import { RESOLVER_REQUEST, RESOLVER_RESPONSE, resolverArguments } from '../openclaw/resolver/protocol';

/**
 * The exec secret resolver as it runs inside a tenant's gateway pod.
 *
 * The OpenClaw image carries Node.js but not the AWS CLI, so this variant of the host's resolver (same protocol,
 * same id rules, same error codes) calls AWS Secrets Manager itself: it takes the pod's credentials from the EKS Pod
 * Identity agent (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the token read from
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`), signs `GetSecretValue` with Signature Version 4 and posts it over HTTPS.
 * No dependencies; nothing is written to disk or stderr except a fixed message on a usage error.
 *
 * Plain JavaScript for Node.js 22+, composed with the host resolver's protocol parts (`resolver/protocol.ts`). No
 * backticks or dollar-brace sequences: its parts live in String.raw template literals. test/platform/pod-secret-resolver.test.ts runs it for real against a local fake of the agent and of
 * Secrets Manager, and checks its signature against the AWS SDK's signer.
 */
export const POD_RESOLVER_SCRIPT_BODY = [
  String.raw`'use strict';
// OpenClaw exec secret provider (protocol 1) backed by AWS Secrets Manager, for pods with EKS Pod Identity.
const http = require('http'), https = require('https'), crypto = require('crypto'), fs = require('fs');
const die = (m) => { process.stderr.write('openclaw-secret-resolver: ' + m + '\n'); process.exit(2); };
const a = process.argv.slice(2), allow = [];
let region = process.env.AWS_REGION || '', endpoint = '', ms = 4000;`,
  resolverArguments([
    String.raw`  else if (k === '--region') region = v;`,
    String.raw`  else if (k === '--endpoint') endpoint = v;`,
    String.raw`  else if (k === '--timeout-ms') ms = Number(v);`,
  ]),
  String.raw`if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) die('--region or AWS_REGION must name an AWS region');
const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
let ep;
try { ep = new URL(endpoint || 'https://secretsmanager.' + region + '.' + suffix); } catch (e) { die('--endpoint must be a URL'); }
const loopback = (h) => h === '127.0.0.1' || h === '[::1]' || h === 'localhost';
if (ep.protocol !== 'https:' && !(ep.protocol === 'http:' && loopback(ep.hostname))) die('--endpoint must use https');
const call = (url, opts, body) => new Promise((ok, ko) => {
  const req = (url.protocol === 'https:' ? https : http).request(url, Object.assign({ timeout: ms }, opts), (res) => {
    let d = '';
    res.setEncoding('utf8');
    res.on('data', (c) => { d += c; if (d.length > 1048576) req.destroy(new Error('RESPONSE_TOO_LARGE')); });
    res.on('end', () => ok({ status: res.statusCode, body: d }));
  });
  req.on('timeout', () => req.destroy(new Error('TIMEOUT')));
  req.on('error', ko);
  req.end(body);
});
let credsP;
const creds = () => credsP || (credsP = (async () => {
  const u = new URL(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI || 'x:');
  const agent = ['169.254.170.23', '[fd00:ec2::23]', '169.254.170.2'];
  if (u.protocol !== 'http:' || !(agent.includes(u.hostname) || loopback(u.hostname))) throw new Error('NO_CREDENTIALS');
  const tf = process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  const token = tf ? fs.readFileSync(tf, 'utf8').trim() : '';
  const r = await call(u, { method: 'GET', headers: token ? { Authorization: token } : {} });
  const c = r.status === 200 ? JSON.parse(r.body) : {};
  if (!c.AccessKeyId || !c.SecretAccessKey) throw new Error('NO_CREDENTIALS');
  return c;
})());
const hex = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s, 'utf8').digest();
const getSecret = async (sid) => {
  const c = await creds();
  const body = JSON.stringify({ SecretId: sid });
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''), day = t.slice(0, 8);
  const h = { 'content-type': 'application/x-amz-json-1.1', host: ep.host, 'x-amz-date': t };
  if (c.Token) h['x-amz-security-token'] = c.Token;
  h['x-amz-target'] = 'secretsmanager.GetSecretValue';
  const names = Object.keys(h).sort(), signed = names.join(';');
  const canon = ['POST', '/', '', names.map((n) => n + ':' + h[n] + '\n').join(''), signed, hex(body)].join('\n');
  const scope = day + '/' + region + '/secretsmanager/aws4_request';
  const sts = ['AWS4-HMAC-SHA256', t, scope, hex(canon)].join('\n');
  let k = hmac('AWS4' + c.SecretAccessKey, day);
  for (const p of [region, 'secretsmanager', 'aws4_request']) k = hmac(k, p);
  h.authorization = 'AWS4-HMAC-SHA256 Credential=' + c.AccessKeyId + '/' + scope + ', SignedHeaders=' + signed +
    ', Signature=' + crypto.createHmac('sha256', k).update(sts, 'utf8').digest('hex');
  delete h.host;
  return call(new URL('/', ep), { method: 'POST', headers: h }, body);
};`,
  RESOLVER_REQUEST,
  String.raw`  const one = async (id) => {
    const hash = id.indexOf('#');
    const sid = hash < 0 ? id : id.slice(0, hash), key = hash < 0 ? '' : id.slice(hash + 1);
    if (!sid || sid.length > 2048 || /[\u0000-\u001f\u007f]/.test(id)) return err(id, 'INVALID_ID', 'invalid id');
    if (!allow.some((p) => sid.startsWith(p))) return err(id, 'NOT_ALLOWED', 'id is outside the allowed prefixes');
    let r;
    try { r = await getSecret(sid); } catch (e) {
      const m = e && e.message;
      if (m === 'TIMEOUT') return err(id, 'TIMEOUT', 'Secrets Manager timed out after ' + ms + 'ms');
      return err(id, m === 'NO_CREDENTIALS' ? 'NO_CREDENTIALS' : 'AWS_ERROR', m === 'NO_CREDENTIALS' ? 'no Pod Identity credentials' : 'request failed');
    }
    let o;
    try { o = JSON.parse(r.body); } catch (x) { o = undefined; }
    if (r.status !== 200) {
      // Only the AWS error code name is kept; the message is dropped unread.
      const c = o && typeof o.__type === 'string' ? o.__type.split('#').pop() : '';
      const code = /^[A-Za-z]{1,64}$/.test(c) ? c : '';
      return err(id, code === 'ResourceNotFoundException' ? 'NOT_FOUND' : 'AWS_ERROR', 'GetSecretValue failed' + (code ? ': ' + code : ''));
    }
    let v = o && o.SecretString;
    if (typeof v !== 'string') return err(id, 'NOT_STRING', 'secret has no SecretString');
    if (key) {
      let j;
      try { j = JSON.parse(v); } catch (x) { j = undefined; }
      v = j && typeof j === 'object' && Object.prototype.hasOwnProperty.call(j, key) ? j[key] : undefined;
      if (typeof v !== 'string') return err(id, 'NOT_FOUND', 'JSON key not found or not a string');
    }
    values[id] = v;
  };`,
  RESOLVER_RESPONSE,
].join('\n');

/** Where the gateway pod's init container installs the resolver (an in-memory volume owned by the gateway user). */
export const POD_RESOLVER_PATH = '/opt/openclaw/bin/openclaw-secret-resolver';

/** The Node.js interpreter of the OpenClaw image (the official Node.js base image). */
export const POD_NODE_PATH = '/usr/local/bin/node';

/** The resolver's source text with its `#!` line. */
export function podResolverSource(nodePath: string = POD_NODE_PATH): string {
  return `#!${nodePath}\n${POD_RESOLVER_SCRIPT_BODY}`;
}
