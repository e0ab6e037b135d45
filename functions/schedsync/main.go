// Command schedsync is the schedule sync function: the CloudFormation
// custom resource behind each deploy's schedules. Its properties carry
// the jobs file's schedule plan; it brings the jobs' EventBridge Scheduler
// schedules to that plan, keeping what a person edited in EventBridge
// since the last deploy, and reports the kept edits as the resource's
// response data (stack outputs). On stack deletion it deletes the
// schedules it created. See package schedsync.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/schedsync"
	"mailconnector/shared/scheduler/ebscheduler"
)

func main() {
	if err := realMain(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "schedsync:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	e, err := awsenv.Setup(ctx, envnames.SchedSync, os.Getenv)
	if err != nil {
		return err
	}
	eb := ebscheduler.New(scheduler.NewFromConfig(e.AWSConfig), os.Getenv(envnames.ScheduleGroup),
		os.Getenv(envnames.FetchFunctionARN), os.Getenv(envnames.SchedulerRoleARN))
	s := &schedsync.Syncer{Scheduler: eb, Records: e.Store, Log: e.Logger}
	if e.AlertTopicARN != "" {
		s.Notifier = e.Notifier()
	}
	lambda.Start(cfn.LambdaWrap(func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		data, err := s.Resource(ctx, string(ev.RequestType), ev.ResourceProperties)
		return schedsync.PhysicalID, data, err
	}))
	return nil
}
