// AWS SDK for JavaScript v3 through the proxy: real host names, no endpoint override. v3 ignores HTTPS_PROXY,
// so the application passes an agent; NODE_EXTRA_CA_CERTS (from proxy-env) makes Node trust the proxy's CA.
// Usage: node js_client.mjs TAG SECRET
import { HttpsProxyAgent } from "https-proxy-agent";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { DynamoDBClient, CreateTableCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { SQSClient, CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { SSMClient, PutParameterCommand } from "@aws-sdk/client-ssm";
import { SecretsManagerClient, CreateSecretCommand } from "@aws-sdk/client-secrets-manager";

const [tag, secret] = process.argv.slice(2);
const agent = new HttpsProxyAgent(process.env.HTTPS_PROXY);
const cfg = { region: "eu-west-1", requestHandler: new NodeHttpHandler({ httpsAgent: agent, httpAgent: agent }) };
const s3 = new S3Client(cfg);
const bucket = `${tag}-bucket`;
await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }));
await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "js/object.txt", Body: `js ${secret}` }));
const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "js/object.txt" }));
if (!(await got.Body.transformToString()).includes(secret)) throw new Error("bad body");
const ddb = new DynamoDBClient(cfg);
await ddb.send(new CreateTableCommand({ TableName: `${tag}-table`, BillingMode: "PAY_PER_REQUEST",
  KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }] }));
await ddb.send(new PutItemCommand({ TableName: `${tag}-table`, Item: { pk: { S: "1" }, v: { S: secret } } }));
const sqs = new SQSClient(cfg);
const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${tag}-queue` }));
await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `js ${secret}` }));
const id = await new STSClient(cfg).send(new GetCallerIdentityCommand({}));
await new SSMClient(cfg).send(new PutParameterCommand({ Name: `/${tag}/token`, Value: `js ${secret}`, Type: "SecureString" }));
await new SecretsManagerClient(cfg).send(new CreateSecretCommand({ Name: `${tag}/api`, SecretString: `js ${secret}` }));
console.log(JSON.stringify({ account: id.Account, queue_url: QueueUrl }));
