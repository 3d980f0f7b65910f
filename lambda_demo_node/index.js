// Demo workload (Node.js, AWS SDK for JavaScript v3): the same calls as the Python demo, reported over
// OpenTelemetry. Nothing here knows about tracing: the ADOT Lambda layer's wrapper (AWS_LAMBDA_EXEC_WRAPPER)
// starts the OpenTelemetry SDK and its AWS SDK instrumentation before this module is loaded, and the
// function's OTEL_* environment sends every AWS SDK span to the collector (OTLP/HTTP). The @aws-sdk/client-*
// packages are the ones the Node.js runtime bundles: the asset is this folder as it is, no bundling.
'use strict';
const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts');
const { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } = require('@aws-sdk/client-s3');
const { SSMClient, GetParameterCommand } = require('@aws-sdk/client-ssm');

// Path-style S3 requests only under an endpoint override (tests against moto); never in Lambda.
const s3 = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) });
const sts = new STSClient({});
const ssm = new SSMClient({});

function settings(env) {
  const key = env.DEMO_OBJECT_KEY;
  return {
    bucket: env.RESULTS_BUCKET,
    key,
    prefix: key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '',
    parameter: env.COLLECTOR_ADDRESS_PARAMETER,
  };
}

exports.handler = async (event, context) => {
  const demo = settings(process.env);
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  const body = JSON.stringify({ lastRequest: (context && context.awsRequestId) || 'local' });
  await s3.send(new PutObjectCommand({ Bucket: demo.bucket, Key: demo.key, Body: body, ContentType: 'application/json' }));
  const object = await s3.send(new GetObjectCommand({ Bucket: demo.bucket, Key: demo.key }));
  const readBack = JSON.parse(await object.Body.transformToString());
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: demo.bucket, Prefix: demo.prefix, MaxKeys: 10 }));
  const parameter = await ssm.send(new GetParameterCommand({ Name: demo.parameter }));
  return {
    account: identity.Account,
    object: `s3://${demo.bucket}/${demo.key}`,
    readBack,
    objectsUnderPrefix: listed.KeyCount || 0,
    collectorAddress: parameter.Parameter.Value,
  };
};
