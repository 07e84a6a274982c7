/**
 * The Athena side of BedrockAuditTrail: the CloudTrail table's columns (CloudTrail's record format, as Athena's
 * JSON SerDe maps it: lower-case names) and the saved queries.
 * @internal
 */

/** One column of the CloudTrail table: a name and a Hive type. */
export interface AuditColumn {
  readonly name: string;
  readonly type: string;
}

const SESSION_ISSUER = 'struct<type:string,principalid:string,arn:string,accountid:string,username:string>';
const USER_IDENTITY = [
  'struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string,',
  'onbehalfof:struct<userid:string,identitystorearn:string>,',
  `sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,sessionissuer:${SESSION_ISSUER},`,
  'sourceidentity:string,ec2roledelivery:string,webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>>>',
].join('');

/** The columns of a CloudTrail log record. Nested JSON documents (request parameters, ...) stay strings. */
export const CLOUDTRAIL_COLUMNS: AuditColumn[] = [
  { name: 'eventversion', type: 'string' },
  { name: 'useridentity', type: USER_IDENTITY },
  { name: 'eventtime', type: 'string' },
  { name: 'eventsource', type: 'string' },
  { name: 'eventname', type: 'string' },
  { name: 'awsregion', type: 'string' },
  { name: 'sourceipaddress', type: 'string' },
  { name: 'useragent', type: 'string' },
  { name: 'errorcode', type: 'string' },
  { name: 'errormessage', type: 'string' },
  { name: 'requestparameters', type: 'string' },
  { name: 'responseelements', type: 'string' },
  { name: 'additionaleventdata', type: 'string' },
  { name: 'requestid', type: 'string' },
  { name: 'eventid', type: 'string' },
  { name: 'readonly', type: 'string' },
  { name: 'resources', type: 'array<struct<arn:string,accountid:string,type:string>>' },
  { name: 'eventtype', type: 'string' },
  { name: 'apiversion', type: 'string' },
  { name: 'recipientaccountid', type: 'string' },
  { name: 'serviceeventdetails', type: 'string' },
  { name: 'sharedeventid', type: 'string' },
  { name: 'vpcendpointid', type: 'string' },
  { name: 'vpcendpointaccountid', type: 'string' },
  { name: 'eventcategory', type: 'string' },
  { name: 'addendum', type: 'struct<reason:string,updatedfields:string,originalrequestid:string,originaleventid:string>' },
  { name: 'sessioncredentialfromconsole', type: 'string' },
  { name: 'edgedevicedetails', type: 'string' },
  { name: 'tlsdetails', type: 'struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>' },
];

/** The partition columns: filled by partition projection from the object key, never by a crawler. */
export const PARTITION_COLUMNS: AuditColumn[] = [
  { name: 'region', type: 'string' },
  { name: 'timestamp', type: 'string' },
];

/** Bedrock's event sources: the service and its Mantle (OpenAI-compatible) endpoint. */
export const BEDROCK_EVENT_SOURCES = ['bedrock.amazonaws.com', 'bedrock-mantle.amazonaws.com'];

/** Bedrock calls (the service or its Mantle endpoint) refused for lack of permission: a CloudWatch Logs filter pattern. */
export const DENIED_FILTER_PATTERN = '{ ($.eventSource = "bedrock.amazonaws.com" || $.eventSource = "bedrock-mantle.amazonaws.com") && '
  + '($.errorCode = "AccessDenied" || $.errorCode = "AccessDeniedException" || $.errorCode = "UnauthorizedOperation") }';

/** The model-call operations (management events of bedrock.amazonaws.com). */
export const MODEL_CALLS = ['InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream'];

/** A saved query. `{table}` stands for the qualified table name. */
export interface AuditQueryTemplate {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly sql: string;
}

const quoteList = (values: string[]) => values.map((v) => `'${v}'`).join(', ');
const BEDROCK = `eventsource IN (${quoteList(BEDROCK_EVENT_SOURCES)})`;
const LAST_N_DAYS = (days: number) => `"timestamp" >= date_format(current_date - interval '${days}' day, '%Y/%m/%d')`;
const LAST_30_DAYS = LAST_N_DAYS(30);

/** The queries a user wants on the first day, over the last 30 days of partitions. */
export function auditQueries(): AuditQueryTemplate[] {
  const queries: AuditQueryTemplate[] = [
    {
      id: 'CallsPerPrincipalPerDay',
      name: 'bedrock-model-calls-per-principal-per-day',
      description: 'Bedrock model calls per calling principal and day, last 30 days',
      sql: [
        'SELECT substr(eventtime, 1, 10) AS day, useridentity.arn AS principal, count(*) AS calls',
        'FROM {table}',
        `WHERE ${BEDROCK} AND eventname IN (${quoteList(MODEL_CALLS)}) AND ${LAST_30_DAYS}`,
        'GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC',
      ].join('\n'),
    },
    {
      id: 'CallsPerModel',
      name: 'bedrock-model-calls-per-model',
      description: 'Bedrock model calls per model id (or inference profile), last 30 days',
      sql: [
        "SELECT json_extract_scalar(requestparameters, '$.modelId') AS model, count(*) AS calls, count(DISTINCT useridentity.arn) AS principals",
        'FROM {table}',
        `WHERE ${BEDROCK} AND eventname IN (${quoteList(MODEL_CALLS)}) AND ${LAST_30_DAYS}`,
        'GROUP BY 1 ORDER BY 2 DESC',
      ].join('\n'),
    },
    {
      id: 'DeniedCalls',
      name: 'bedrock-denied-calls',
      description: 'Bedrock calls refused for lack of permission, by principal and operation, last 30 days',
      sql: [
        'SELECT useridentity.arn AS principal, eventname, errorcode, count(*) AS calls, max(eventtime) AS last_seen',
        'FROM {table}',
        `WHERE ${BEDROCK} AND errorcode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation') AND ${LAST_30_DAYS}`,
        'GROUP BY 1, 2, 3 ORDER BY 4 DESC',
      ].join('\n'),
    },
    {
      id: 'CallingRoles',
      name: 'bedrock-calling-roles',
      description: 'Every role (session issuer) that called Bedrock, with its calls and source addresses, last 30 days',
      sql: [
        'SELECT useridentity.sessioncontext.sessionissuer.arn AS role, count(*) AS calls, array_agg(DISTINCT sourceipaddress) AS sources',
        'FROM {table}',
        `WHERE ${BEDROCK} AND ${LAST_30_DAYS}`,
        'GROUP BY 1 ORDER BY 2 DESC',
      ].join('\n'),
    },
    {
      id: 'CallsPerNamespace',
      name: 'bedrock-model-calls-per-kubernetes-namespace',
      description: 'Bedrock model calls per Kubernetes namespace (one per tenant of the platform) and model, from EKS Pod Identity sessions, last 30 days',
      // A pod's Bedrock call names only its role session (eks-<cluster>-<pod>-<uuid>). The namespace is a session tag
      // of the AssumeRole call EKS Pod Identity made for that session, so the query joins the two on the session ARN.
      sql: [
        'WITH pod_sessions AS (',
        "  SELECT DISTINCT json_extract_scalar(responseelements, '$.assumedRoleUser.arn') AS session_arn, json_extract_scalar(tag, '$.value') AS namespace",
        '  FROM {table}',
        "  CROSS JOIN UNNEST(CAST(json_extract(requestparameters, '$.tags') AS ARRAY(JSON))) AS t(tag)",
        "  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRole' AND useridentity.invokedby = 'pods.eks.amazonaws.com'",
        `  AND json_extract_scalar(tag, '$.key') = 'kubernetes-namespace' AND ${LAST_N_DAYS(31)}`,
        ')',
        "SELECT s.namespace, substr(c.eventtime, 1, 10) AS day, json_extract_scalar(c.requestparameters, '$.modelId') AS model, count(*) AS calls",
        'FROM {table} c JOIN pod_sessions s ON c.useridentity.arn = s.session_arn',
        `WHERE c.${BEDROCK} AND c.eventname IN (${quoteList(MODEL_CALLS)}) AND c.${LAST_30_DAYS}`,
        'GROUP BY 1, 2, 3 ORDER BY 2 DESC, 4 DESC',
      ].join('\n'),
    },
  ];
  return queries;
}

/** The query of calls by anyone but the expected principals (role ARNs, or user ARNs). */
export function unexpectedCallersQuery(expectedArns: string[]): AuditQueryTemplate {
  return {
    id: 'UnexpectedCallers',
    name: 'bedrock-calls-from-unexpected-principals',
    description: 'Bedrock calls from principals that are not among the expected roles, last 30 days',
    sql: [
      'SELECT eventtime, useridentity.arn AS principal, useridentity.sessioncontext.sessionissuer.arn AS role, eventname, sourceipaddress',
      'FROM {table}',
      `WHERE ${BEDROCK} AND ${LAST_30_DAYS}`,
      `AND coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) NOT IN (${quoteList(expectedArns)})`,
      'ORDER BY eventtime DESC',
    ].join('\n'),
  };
}

