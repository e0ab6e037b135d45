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
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"

	"mailconnector/shared/awsenv"
	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/schedsync"
	"mailconnector/shared/scheduler/ebscheduler"
)

func main() {
	awsenv.Start(envnames.SchedSync, func(_ context.Context, e *awsenv.Env) (any, error) {
		return resource(e), nil
	})
}

func resource(e *awsenv.Env) func(context.Context, cfn.Event) (string, error) {
	eb := ebscheduler.New(scheduler.NewFromConfig(e.AWSConfig), os.Getenv(envnames.ScheduleGroup),
		os.Getenv(envnames.FetchFunctionARN), os.Getenv(envnames.SchedulerRoleARN))
	s := &schedsync.Syncer{Scheduler: eb, Records: e.Store, Log: e.Logger}
	if e.AlertTopicARN != "" {
		s.Notifier = e.Notifier()
	}
	return cfn.LambdaWrap(func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		data, err := s.Resource(ctx, string(ev.RequestType), ev.ResourceProperties)
		return schedsync.PhysicalID, data, err
	})
}
