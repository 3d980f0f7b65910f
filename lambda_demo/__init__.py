"""The demo workload the CDK app deploys as a Lambda function (`handler.handler`)."""
