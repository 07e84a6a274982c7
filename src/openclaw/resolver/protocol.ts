/**
 * The parts of the exec secret resolvers that do not depend on how a secret is fetched: the argument loop, reading
 * and checking the protocol-1 request, and writing the response (four ids fetched at a time). The host's resolver
 * (AWS CLI) and the pod's (signed HTTPS) are composed from them, so both speak the protocol the same way.
 *
 * Plain JavaScript text; no backticks or dollar-brace sequences (they live in String.raw template literals).
 * @internal
 */

/** The argument loop: `--allow-prefix` (repeatable), then the given cases; anything else is refused. */
export function resolverArguments(cases: string[]): string {
  return [
    LOOP_HEAD,
    ...cases,
    LOOP_TAIL,
  ].join('\n');
}

const LOOP_HEAD = String.raw`for (let i = 0; i < a.length; i += 2) {
  const k = a[i], v = a[i + 1];
  if (v === undefined || v === '') die('missing value for ' + k);
  if (k === '--allow-prefix') allow.push(v);`;

const LOOP_TAIL = String.raw`  else die('unknown argument');
}
if (!(ms >= 100 && ms <= 120000)) die('--timeout-ms must be 100-120000');`;

/** Reads stdin (bounded), checks the request and declares `values`, `errors` and `err(id, code, message)`. */
export const RESOLVER_REQUEST = String.raw`const MAX_IN = 262144, MAX_IDS = 64;
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { buf += c; if (buf.length > MAX_IN) die('request too large'); });
process.stdin.on('end', () => {
  let req;
  try { req = JSON.parse(buf); } catch (e) { die('request is not valid JSON'); }
  if (!req || typeof req !== 'object') die('request must be an object');
  if (req.protocolVersion !== 1) die('unsupported protocolVersion (expected 1)');
  const ids = req.ids;
  if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) die('ids must be an array of strings');
  if (ids.length > MAX_IDS) die('too many ids');
  const values = Object.create(null), errors = Object.create(null);
  const err = (id, code, message) => { errors[id] = { code, message }; };`;

/** Fetches the ids four at a time with `one(id)`, then writes the response and closes the request handler. */
export const RESOLVER_RESPONSE = String.raw`  const q = [...new Set(ids)];
  const work = () => (q.length ? one(q.shift()).then(work) : Promise.resolve());
  Promise.all([work(), work(), work(), work()]).then(() => {
    const res = { protocolVersion: 1, values };
    if (Object.keys(errors).length) res.errors = errors;
    process.stdout.write(JSON.stringify(res) + '\n');
  });
});
`;
