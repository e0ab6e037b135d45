package ebscheduler

import (
	"context"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"

	"mailconnector/shared/awstest"
	"mailconnector/shared/job"
)

func TestPutUpdateDisableDelete(t *testing.T) {
	m := awstest.Start(t)
	ctx := context.Background()
	c := scheduler.NewFromConfig(m.Config())
	if _, err := c.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String("mail-connector")}); err != nil {
		t.Fatal(err)
	}
	s := New(c, "mail-connector", "arn:aws:lambda:us-east-1:123456789012:function:fetch", "arn:aws:iam::123456789012:role/scheduler")
	sch := job.Schedule{Every: job.Duration(15 * 60e9), From: "08:00", To: "18:00", Occurrence: "weekly", Days: []string{"mon", "fri"}, TimeZone: "Europe/Berlin"}
	exprs, err := sch.Expressions()
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) < 2 {
		t.Fatalf("got %v, want the window's two expressions", exprs)
	}
	if err := s.Put(ctx, "support", exprs, sch, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "billing", []string{"rate(10 minutes)"}, job.Schedule{}, true); err != nil {
		t.Fatal(err)
	}
	list := func() map[string]Schedule {
		all, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Schedule{}
		for _, sc := range all {
			out[sc.Name] = sc
		}
		return out
	}
	got := list()
	if len(got) != len(exprs)+1 || got["support"].JobID != "support" || got["support"].TimeZone != "Europe/Berlin" || got["support-1"].Expression != exprs[1] {
		t.Fatalf("got %+v", got)
	}
	// An edit with fewer expressions updates the first and removes the rest.
	if err := s.Put(ctx, "support", []string{"rate(5 minutes)"}, job.Schedule{}, true); err != nil {
		t.Fatal(err)
	}
	got = list()
	if len(got) != 2 || got["support"].Expression != "rate(5 minutes)" {
		t.Fatalf("after the edit: got %+v", got)
	}
	if err := s.Disable(ctx, "support"); err != nil {
		t.Fatal(err)
	}
	if got = list(); got["support"].State != "DISABLED" || got["billing"].State != "ENABLED" {
		t.Errorf("after disable: got %+v", got)
	}
	if err := s.Delete(ctx, "support"); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range list() {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) != 1 || names[0] != "billing" {
		t.Errorf("after delete: got %v, want only billing", names)
	}
}
