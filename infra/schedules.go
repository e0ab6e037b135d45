package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/jsii-runtime-go"

	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/job"
	"mailconnector/shared/schedsync"
)

// scheduleGroupName is the EventBridge Scheduler group of the connector.
const scheduleGroupName = "mail-connector"

// The jobs' schedules are not CloudFormation resources: CloudFormation
// would rewrite a schedule a person edited in EventBridge whenever a
// deploy touches it. A custom resource (Custom::Schedules) carries the
// jobs file's plan to the schedsync function instead, which creates,
// updates and deletes the schedules and keeps people's edits (package
// schedsync). Its Summary and Drift become stack outputs. The renew
// schedule of Graph push, which nobody edits, stays a plain resource.

// defineSchedules defines the schedule group, the role the schedules
// invoke the fetch function with, the sync's custom resource and the
// renew schedule.
func (c *ConnectorStack) defineSchedules() error {
	c.ScheduleGroup = awsscheduler.NewCfnScheduleGroup(c.Stack, jsii.String("ScheduleGroup"), &awsscheduler.CfnScheduleGroupProps{
		Name: jsii.String(scheduleGroupName),
	})
	fetch := c.Functions[fnFetch]
	c.SchedulerRole = c.schedulerRole("SchedulerRole", fnFetch, fetch)

	sync := c.Functions[fnSchedSync]
	sync.AddEnvironment(jsii.String(envnames.ScheduleGroup), jsii.String(scheduleGroupName), nil)
	sync.AddEnvironment(jsii.String(envnames.FetchFunctionARN), fetch.FunctionArn(), nil)
	sync.AddEnvironment(jsii.String(envnames.SchedulerRoleARN), c.SchedulerRole.RoleArn(), nil)
	sync.AddEnvironment(jsii.String(envnames.AlertTopicARN), c.Topic.TopicArn(), nil)
	c.grantSchedSync()

	reset, nonce := c.Config.ResetSchedules, ""
	if reset != "" {
		r := schedsync.ParseReset(reset)
		for _, id := range r.Jobs {
			if !slices.ContainsFunc(c.Jobs.Jobs, func(j job.Job) bool { return j.ID == id }) {
				return fmt.Errorf("context %s: %q is not a job of %s (a job id, several separated by commas, or all)", ctxResetSchedules, id, relPath(c.Config.RepoRoot, c.Config.JobsFile))
			}
		}
		// Asking for a reset twice runs it twice: the property changes.
		nonce = c.Config.Now.UTC().Format(time.RFC3339)
	}
	digest, err := jobsDigest(c)
	if err != nil {
		return err
	}
	c.ScheduleSync = awscdk.NewCustomResource(c.Stack, jsii.String("Schedules"), &awscdk.CustomResourceProps{
		ServiceToken: sync.FunctionArn(),
		ResourceType: jsii.String("Custom::Schedules"),
		Properties: &map[string]any{
			schedsync.PropPlan:       schedsync.EncodePlan(c.Schedules),
			schedsync.PropReset:      reset,
			schedsync.PropResetNonce: nonce,
			schedsync.PropJobsFile:   digest,
		},
	})
	c.ScheduleSync.Node().AddDependency(c.ScheduleGroup, c.Roles[fnSchedSync])

	if renew, ok := c.Functions[fnRenew]; ok {
		c.RenewSchedulerRole = c.schedulerRole("RenewSchedulerRole", fnRenew, renew)
		s := awsscheduler.NewCfnSchedule(c.Stack, jsii.String("Schedule-renew"), &awsscheduler.CfnScheduleProps{
			Name:               jsii.String("connector-renew-subscriptions"),
			GroupName:          c.ScheduleGroup.Name(),
			Description:        jsii.String("Mail Connector: subscribe push jobs and renew their Graph subscriptions"),
			ScheduleExpression: jsii.String(renewEvery),
			FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
			State:              jsii.String("ENABLED"),
			Target: &awsscheduler.CfnSchedule_TargetProperty{
				Arn:         renew.FunctionArn(),
				RoleArn:     c.RenewSchedulerRole.RoleArn(),
				Input:       jsii.String("{}"),
				RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{MaximumRetryAttempts: jsii.Number(0)},
			},
		})
		s.AddDependency(c.ScheduleGroup)
	}
	return nil
}

// schedSyncActions are the scheduler actions the sync makes, one
// schedule at a time (it never lists the group).
var schedSyncActions = []string{"scheduler:GetSchedule", "scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"}

// grantSchedSync lets the sync function manage the schedules of the
// connector's group (scheduler ARNs name schedule/<group>/<name>, so the
// group's schedules are "schedule/mail-connector/*"), and hand them the
// scheduler role, to EventBridge Scheduler only. Its table access
// (tableAccessOf), key and logs are granted with every function's.
func (c *ConnectorStack) grantSchedSync() {
	c.allow(fnSchedSync, schedSyncActions, c.Stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("scheduler"), Resource: jsii.String("schedule"), ResourceName: jsii.String(scheduleGroupName + "/*"),
	}))
	c.Roles[fnSchedSync].AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("iam:PassRole"),
		Resources:  &[]*string{c.SchedulerRole.RoleArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "scheduler.amazonaws.com"}},
	}))
	c.allow(fnSchedSync, []string{"sns:Publish"}, c.Topic.TopicArn())
}

// jobsDigest names the jobs file's content: any edit of it runs a sync,
// so a deploy that changes no schedule still records the edits people
// made since the last one.
func jobsDigest(c *ConnectorStack) (string, error) {
	b, err := json.Marshal(c.Jobs)
	if err != nil {
		return "", fmt.Errorf("digest the jobs file: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
