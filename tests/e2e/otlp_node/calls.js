// Real AWS SDK for JavaScript v3 calls, instrumented with @opentelemetry/instrumentation-aws-sdk and exported by
// @opentelemetry/exporter-trace-otlp-proto (chunked OTLP/HTTP protobuf) to the collector under test. The
// versions are pinned in package.json (devDependencies). Environment: MOTO_URL, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
// OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES). Usage: node calls.js calls|denied|demo
'use strict';
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { detectResources, envDetector } = require('@opentelemetry/resources');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { AwsInstrumentation } = require('@opentelemetry/instrumentation-aws-sdk');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');

// The resource as given by OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (a provider's own resource has none).
const provider = new NodeTracerProvider({
  resource: detectResources({ detectors: [envDetector] }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { maxExportBatchSize: 20 })],
});
provider.register();
// Before any @aws-sdk/client-* is loaded: the instrumentation patches them on require.
registerInstrumentations({ instrumentations: [new AwsInstrumentation({ suppressInternalInstrumentation: true })] });

const { NodeHttpHandler } = require('@smithy/node-http-handler');
const s3 = require('@aws-sdk/client-s3');
const ddb = require('@aws-sdk/client-dynamodb');
const sqs = require('@aws-sdk/client-sqs');
const sns = require('@aws-sdk/client-sns');
const sm = require('@aws-sdk/client-secrets-manager');
const lambda = require('@aws-sdk/client-lambda');
const kinesis = require('@aws-sdk/client-kinesis');
const sts = require('@aws-sdk/client-sts');

const REGION = 'eu-west-1';
const base = { region: REGION, endpoint: process.env.MOTO_URL, maxAttempts: 1 };

async function failing(client, command) {
  try {
    await client.send(command);
  } catch (error) {
    return error.name;
  }
  throw new Error('expected a failure');
}

async function calls() {
  await new sts.STSClient(base).send(new sts.GetCallerIdentityCommand({}));
  const b = new s3.S3Client({ ...base, forcePathStyle: true });
  const Bucket = 'node-otlp-bucket';
  await b.send(new s3.CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  await b.send(new s3.PutObjectCommand({ Bucket, Key: 'reports/a.txt', Body: 'object body never kept' }));
  await (await b.send(new s3.GetObjectCommand({ Bucket, Key: 'reports/a.txt' }))).Body.transformToString();
  await b.send(new s3.ListObjectsV2Command({ Bucket, Prefix: 'reports/' }));
  const d = new ddb.DynamoDBClient(base);
  await d.send(new ddb.CreateTableCommand({
    TableName: 'node-orders', BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
  }));
  await d.send(new ddb.PutItemCommand({ TableName: 'node-orders', Item: { id: { S: 'o-1' } } }));
  await d.send(new ddb.GetItemCommand({ TableName: 'node-orders', Key: { id: { S: 'o-1' } } }));
  const q = new sqs.SQSClient(base);
  const { QueueUrl } = await q.send(new sqs.CreateQueueCommand({ QueueName: 'node-jobs' }));
  await q.send(new sqs.SendMessageCommand({ QueueUrl, MessageBody: 'message body never kept' }));
  await q.send(new sqs.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }));
  const n = new sns.SNSClient(base);
  const { TopicArn } = await n.send(new sns.CreateTopicCommand({ Name: 'node-alerts' }));
  await n.send(new sns.PublishCommand({ TopicArn, Message: 'message body never kept' }));
  const s = new sm.SecretsManagerClient(base);
  await s.send(new sm.CreateSecretCommand({ Name: 'node-db', SecretString: 'secret value never kept' }));
  await s.send(new sm.GetSecretValueCommand({ SecretId: 'node-db' }));
  const k = new kinesis.KinesisClient({ ...base, requestHandler: new NodeHttpHandler() }); // moto: no HTTP/2
  await k.send(new kinesis.CreateStreamCommand({ StreamName: 'node-clicks', ShardCount: 1 }));
  await k.send(new kinesis.PutRecordCommand({ StreamName: 'node-clicks', Data: Buffer.from('x'), PartitionKey: 'p' }));
  await failing(new lambda.LambdaClient(base), new lambda.InvokeCommand({ FunctionName: 'node-missing-fn' }));
}

async function denied() {
  // Credentials of a user moto allows only s3:ListAllMyBuckets (the test creates it and turns enforcement on).
  const limited = { ...base, credentials: { accessKeyId: process.env.LIMITED_KEY_ID, secretAccessKey: process.env.LIMITED_SECRET } };
  await new s3.S3Client({ ...limited, forcePathStyle: true }).send(new s3.ListBucketsCommand({}));
  await failing(new sns.SNSClient(limited), new sns.ListTopicsCommand({}));
}

async function demo() {
  const { handler } = require('../../../lambda_demo_node/index.js');
  console.log(JSON.stringify(await handler({}, { awsRequestId: 'node-request-1' })));
}

async function main() {
  await { calls, denied, demo }[process.argv[2]]();
  await provider.forceFlush();
  await provider.shutdown();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
