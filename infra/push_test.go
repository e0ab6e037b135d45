package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pushStack(t *testing.T) *synthResult {
	t.Helper()
	return synth(t, synthOptions{Context: map[string]any{"jobsFile": "infra/testdata/jobs.push.yaml"}})
}

func TestPushFunctionsOnlyWithAPushJob(t *testing.T) {
	if r := example(t); len(r.resources("AWS::Lambda::Url")) != 0 || r.C.Functions[fnWebhook] != nil || r.C.Functions[fnRenew] != nil {
		t.Error("a stack without push jobs has a webhook, a renew function or a Function URL")
	}
	r := pushStack(t)
	urls := r.resources("AWS::Lambda::Url")
	if len(urls) != 1 {
		t.Fatalf("got %d Function URLs, want 1", len(urls))
	}
	for _, u := range urls {
		p := u["Properties"].(map[string]any)
		if p["AuthType"] != "NONE" || r.render(p["TargetFunctionArn"]) != "${Function:webhook.Arn}" {
			t.Errorf("Function URL: got %v, want AuthType NONE on the webhook", r.render(p))
		}
	}
	// Anyone may call the URL (Graph cannot sign), through the URL only;
	// nothing else is public.
	public := 0
	for _, p := range r.resources("AWS::Lambda::Permission") {
		props := p["Properties"].(map[string]any)
		if props["Principal"] != "*" {
			continue
		}
		public++
		viaURL := (props["Action"] == "lambda:InvokeFunctionUrl" && props["FunctionUrlAuthType"] == "NONE") ||
			(props["Action"] == "lambda:InvokeFunction" && props["InvokedViaFunctionUrl"] == true)
		if !viaURL || !strings.Contains(r.render(props["FunctionName"]), "Function:webhook") {
			t.Errorf("public permission %s, want only invocation of the webhook through its URL", r.render(props))
		}
	}
	if public != 2 {
		t.Errorf("got %d public permissions, want the 2 a Function URL needs", public)
	}
}

func TestPushFunctionsEnvironmentAndLimits(t *testing.T) {
	r := pushStack(t)
	env := func(fn string) map[string]string {
		p := r.props(t, r.logicalID(t, "Function:"+fn))
		out := map[string]string{}
		for k, v := range p["Environment"].(map[string]any)["Variables"].(map[string]any) {
			out[k] = r.render(v)
		}
		return out
	}
	hook, renew := env(fnWebhook), env(fnRenew)
	for k, want := range map[string]string{"CONNECTOR_TABLE": "${Table}", "CONNECTOR_FETCH_FUNCTION": "${Function:fetch}", "CONNECTOR_ALERT_TOPIC_ARN": "${Topic}"} {
		if hook[k] != want || renew[k] != want {
			t.Errorf("%s: got webhook %q renew %q, want %q", k, hook[k], renew[k], want)
		}
	}
	if !strings.Contains(renew["CONNECTOR_WEBHOOK_URL"], "FunctionUrl") {
		t.Errorf("renew CONNECTOR_WEBHOOK_URL: got %q, want the webhook's Function URL", renew["CONNECTOR_WEBHOOK_URL"])
	}
	p := r.props(t, r.logicalID(t, "Function:"+fnWebhook))
	if p["Timeout"] != float64(30) || p["ReservedConcurrentExecutions"] != float64(webhookConcurrency) {
		t.Errorf("webhook: timeout %v reserved %v, want 30 s and %d", p["Timeout"], p["ReservedConcurrentExecutions"], webhookConcurrency)
	}
	outs := r.JSON["Outputs"].(map[string]any)
	if o, ok := outs["WebhookUrl"].(map[string]any); !ok {
		t.Error("no WebhookUrl output")
	} else if d, _ := o["Description"].(string); !strings.Contains(d, "connector oauth link") {
		t.Errorf("WebhookUrl description: got %q, want it to name connector oauth link --url", d)
	}
}

func TestPushLeastPrivilege(t *testing.T) {
	r := pushStack(t)
	arn := func(s string) string {
		return "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:" + s + "-??????"
	}
	secretsOf := map[string][]string{
		fnRenew:   {arn("graph/push")},                    // the push jobs'
		fnWebhook: {arn("graph/poll"), arn("graph/push")}, // every oauth2 job's: sign-in links
	}
	for _, fn := range pushFunctionNames {
		secret := secretsOf[fn]
		w := map[string][]string{
			"logs:CreateLogStream":          {"${Logs:" + fn + ".Arn}"},
			"logs:PutLogEvents":             {"${Logs:" + fn + ".Arn}"},
			"lambda:InvokeFunction":         {"${Function:fetch.Arn}"},
			"sns:Publish":                   {"${Topic}"},
			"secretsmanager:GetSecretValue": secret,
			"secretsmanager:PutSecretValue": secret,
		}
		for a, res := range wantTable[fn] {
			w[a] = res
		}
		w["kms:Decrypt"] = []string{"${Key.Arn} ViaService=" + wantKeyServices[fn]}
		w["kms:GenerateDataKey"] = w["kms:Decrypt"]
		if d := cmp.Diff(w, r.permissions(t, "Role:"+fn)); d != "" {
			t.Errorf("%s permissions (-want +got):\n%s", fn, d)
		}
	}
	got := r.permissions(t, "RenewSchedulerRole")
	if d := cmp.Diff(map[string][]string{"lambda:InvokeFunction": {"${Function:renew.Arn}"}}, got); d != "" {
		t.Errorf("renew scheduler role (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string][]string{"lambda:InvokeFunction": {"${Function:fetch.Arn}"}}, r.permissions(t, "SchedulerRole")); d != "" {
		t.Errorf("the jobs' scheduler role still invokes only fetch (-want +got):\n%s", d)
	}
}

func TestRenewSchedule(t *testing.T) {
	r := pushStack(t)
	var found bool
	for _, s := range r.resources("AWS::Scheduler::Schedule") {
		p := s["Properties"].(map[string]any)
		if p["Name"] != "connector-renew-subscriptions" {
			continue
		}
		found = true
		tgt := p["Target"].(map[string]any)
		if p["ScheduleExpression"] != renewEvery || r.render(tgt["Arn"]) != "${Function:renew.Arn}" || r.render(tgt["RoleArn"]) != "${RenewSchedulerRole.Arn}" {
			t.Errorf("renew schedule: got %s", r.render(p))
		}
	}
	if !found {
		t.Error("no renew schedule")
	}
}
