import { RESOLVER_REQUEST, RESOLVER_RESPONSE, resolverArguments } from './protocol';

/**
 * Source of the exec secret resolver (without its `#!` line), kept as a string so that it ships
 * inside the compiled library (jsii copies no .js files from src/) and can be embedded in user data.
 *
 * Plain JavaScript for Node.js 22+, no dependencies. Do not use backticks or dollar-brace
 * sequences in it: it lives in a String.raw template literal. test/openclaw/secret-resolver.test.ts
 * runs it for real against a fake AWS CLI.
 */
export const RESOLVER_SCRIPT_BODY = [
  String.raw`'use strict';
// OpenClaw exec secret provider (protocol 1) backed by AWS Secrets Manager.
// Secrets only ever travel stdout-bound in memory: nothing is written to disk or stderr.
const { execFile } = require('child_process');
const die = (m) => { process.stderr.write('openclaw-secret-resolver: ' + m + '\n'); process.exit(2); };
const a = process.argv.slice(2), allow = [];
let cli = '/usr/bin/aws', region = '', ms = 4000;`,
  resolverArguments([
    String.raw`  else if (k === '--aws-cli') cli = v;`,
    String.raw`  else if (k === '--region') region = v;`,
    String.raw`  else if (k === '--timeout-ms') ms = Number(v);`,
  ]),
  RESOLVER_REQUEST,
  String.raw`  const one = (id) => new Promise((done) => {
    const hash = id.indexOf('#');
    const sid = hash < 0 ? id : id.slice(0, hash), key = hash < 0 ? '' : id.slice(hash + 1);
    if (!sid || sid.length > 2048 || /[\u0000-\u001f\u007f]/.test(id)) { err(id, 'INVALID_ID', 'invalid id'); return done(); }
    if (!allow.some((p) => sid.startsWith(p))) { err(id, 'NOT_ALLOWED', 'id is outside the allowed prefixes'); return done(); }
    const args = ['secretsmanager', 'get-secret-value', '--secret-id=' + sid, '--query', 'SecretString', '--output', 'json'];
    if (region) args.push('--region', region);
    const env = Object.assign({}, process.env, { AWS_PAGER: '', PATH: process.env.PATH || '/usr/local/bin:/usr/bin:/bin' });
    execFile(cli, args, { env, timeout: ms, killSignal: 'SIGKILL', maxBuffer: 1048576, windowsHide: true }, (e, out, se) => {
      if (e) {
        if (typeof e.code === 'string') err(id, 'AWS_ERROR', 'AWS CLI failed: ' + e.code);
        else if (e.killed || e.signal) err(id, 'TIMEOUT', 'AWS CLI timed out after ' + ms + 'ms');
        else {
          // Only the AWS error code name is kept; the rest of stderr is dropped unread.
          const m = /An error occurred \(([A-Za-z]{1,64})\)/.exec(String(se));
          const c = m ? m[1] : '';
          err(id, c === 'ResourceNotFoundException' ? 'NOT_FOUND' : 'AWS_ERROR', 'GetSecretValue failed' + (c ? ': ' + c : ''));
        }
        return done();
      }
      let v;
      try { v = JSON.parse(out); } catch (x) { v = undefined; }
      if (typeof v !== 'string') { err(id, 'NOT_STRING', 'secret has no SecretString'); return done(); }
      if (key) {
        let o;
        try { o = JSON.parse(v); } catch (x) { o = undefined; }
        v = o && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
        if (typeof v !== 'string') { err(id, 'NOT_FOUND', 'JSON key not found or not a string'); return done(); }
      }
      values[id] = v;
      done();
    });
  });`,
  RESOLVER_RESPONSE,
].join('\n');
