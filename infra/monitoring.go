package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/jsii-runtime-go"

	"mailconnector/shared/metrics"
)

// period of every alarm and graph. A function, not a variable: a jsii
// value made at package initialisation would start the jsii runtime
// before main can set it up.
func period() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(5)) }

// jobMetric is one of the connector's own metrics (embedded metric format,
// namespace MailConnector, dimension JobId).
func jobMetric(name, jobID, statistic string) awscloudwatch.Metric {
	// No label here: an alarm on a labelled metric becomes a metric-math
	// alarm. The dashboard adds labels with labelled.
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(metrics.Namespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"JobId": jsii.String(jobID)},
		Statistic:     jsii.String(statistic),
		Period:        period(),
	})
}

func labelled(m awscloudwatch.Metric) awscloudwatch.IMetric {
	return m.With(&awscloudwatch.MetricOptions{Label: m.MetricName()})
}

func (c *ConnectorStack) alarm(id, description string, metric awscloudwatch.IMetric, threshold float64, missing awscloudwatch.TreatMissingData) {
	a := awscloudwatch.NewAlarm(c.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(c.Config.StackName + "-" + id),
		AlarmDescription:   jsii.String(description),
		Metric:             metric,
		Threshold:          jsii.Number(threshold),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   missing,
	})
	a.AddAlarmAction(awscloudwatchactions.NewSnsAction(c.Topic))
	c.Alarms = append(c.Alarms, a)
}

// defineMonitoring adds the alarms (all to the alert topic) and the dashboard.
func (c *ConnectorStack) defineMonitoring() {
	notBreaching := awscloudwatch.TreatMissingData_NOT_BREACHING
	sum := &awscloudwatch.MetricOptions{Period: period(), Statistic: jsii.String("Sum")}
	maximum := &awscloudwatch.MetricOptions{Period: period(), Statistic: jsii.String("Maximum")}

	for _, q := range []string{qPreprocessDLQ, qRulesDLQ} {
		c.alarm(q, fmt.Sprintf("Messages wait on the %s dead-letter queue: the deadletter function is not draining it (see its logs).", q),
			c.Queues[q].MetricApproximateNumberOfMessagesVisible(maximum), 1, notBreaching)
	}
	for _, fn := range c.FunctionNames {
		f := c.Functions[fn]
		c.alarm(fn+"-errors", fmt.Sprintf("The %s function failed (see its log group).", fn), f.MetricErrors(sum), 1, notBreaching)
		c.alarm(fn+"-throttles", fmt.Sprintf("The %s function was throttled.", fn), f.MetricThrottles(sum), 1, notBreaching)
	}
	for _, j := range c.Jobs.Jobs {
		// Missing data keeps the state: a job that runs hourly stays in
		// alarm until a run succeeds (and reports 0).
		c.alarm("job-"+j.ID+"-connection", fmt.Sprintf("Job %q failed to connect %d times in a row (notifications.connectionFailures).", j.ID, j.Notifications.ConnectionFailures),
			jobMetric(metrics.ConsecutiveConnectionFailures, j.ID, "Maximum"), float64(j.Notifications.ConnectionFailures), awscloudwatch.TreatMissingData_IGNORE)
	}

	d := awscloudwatch.NewDashboard(c.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		// Dashboard names are unique per account, not per region.
		DashboardName:   jsii.String(c.Config.StackName + "-" + *awscdk.Aws_REGION()),
		DefaultInterval: awscdk.Duration_Days(jsii.Number(1)),
	})
	d.AddWidgets(awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
		Markdown: jsii.String("# Mail Connector\nPer job: messages fetched, processed and failed, run duration and backlog (namespace `MailConnector`, dimension `JobId`). Below: queue depths and function errors."),
		Width:    jsii.Number(24), Height: jsii.Number(2),
	}))
	for _, j := range c.Jobs.Jobs {
		d.AddWidgets(
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
				Title: jsii.String(j.ID + ": messages"), Width: jsii.Number(12),
				Left: &[]awscloudwatch.IMetric{
					labelled(jobMetric(metrics.MessagesFetched, j.ID, "Sum")),
					labelled(jobMetric(metrics.MessagesProcessed, j.ID, "Sum")),
					labelled(jobMetric(metrics.MessagesFailed, j.ID, "Sum")),
				},
			}),
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
				Title: jsii.String(j.ID + ": run duration (ms) and backlog"), Width: jsii.Number(12),
				Left:  &[]awscloudwatch.IMetric{labelled(jobMetric(metrics.RunDuration, j.ID, "Maximum"))},
				Right: &[]awscloudwatch.IMetric{labelled(jobMetric(metrics.Backlog, j.ID, "Maximum"))},
			}),
		)
	}
	var depths, errs []awscloudwatch.IMetric
	for _, q := range []string{qPreprocess, qRules, qPreprocessDLQ, qRulesDLQ} {
		depths = append(depths, c.Queues[q].MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: period(), Statistic: jsii.String("Maximum"), Label: jsii.String(q),
		}))
	}
	for _, fn := range c.FunctionNames {
		errs = append(errs, c.Functions[fn].MetricErrors(&awscloudwatch.MetricOptions{
			Period: period(), Statistic: jsii.String("Sum"), Label: jsii.String(fn),
		}))
	}
	d.AddWidgets(
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Queue depth (messages visible)"), Width: jsii.Number(12), Left: &depths}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Function errors"), Width: jsii.Number(12), Left: &errs}),
	)
	c.Dashboard = d
}
