// AWS SDK for Go v2 (Debian's, as Terraform's AWS provider uses it) through the proxy: real host names, no
// endpoint override. It honours HTTPS_PROXY; AWS_CA_BUNDLE and SSL_CERT_FILE (from proxy-env) name the
// combined bundle. Usage: proxyclient TAG SECRET
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	ctx := context.Background()
	tag, secret := os.Args[1], os.Args[2]
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	must(err)
	s3c := s3.NewFromConfig(cfg)
	bucket := tag + "-bucket"
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}})
	must(err)
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("state/terraform.tfstate"),
		Body: strings.NewReader("go " + secret), Tagging: aws.String("managed-by=terraform")})
	must(err)
	_, err = s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("state/terraform.tfstate")})
	must(err)
	ddb := dynamodb.NewFromConfig(cfg)
	_, err = ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(tag + "-table"), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}}})
	must(err)
	_, err = ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tag + "-table"),
		Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "1"}, "v": &ddbtypes.AttributeValueMemberS{Value: secret}}})
	must(err)
	sq := sqs.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(tag + "-queue")})
	must(err)
	_, err = sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("go " + secret)})
	must(err)
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(err)
	_, err = ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/" + tag + "/key"),
		Value: aws.String("go " + secret), Type: ssmtypes.ParameterTypeSecureString})
	must(err)
	_, err = secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(tag + "/token"),
		SecretString: aws.String("go " + secret)})
	must(err)
	out, _ := json.Marshal(map[string]string{"account": *id.Account, "queue_url": *q.QueueUrl})
	fmt.Println(string(out))
}
