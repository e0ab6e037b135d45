package main

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"mailconnector/shared/job"
	"mailconnector/shared/prune"
)

// maxLifecycleRules is how many rules S3 allows in one bucket's lifecycle
// configuration.
const maxLifecycleRules = 1000

// retentionRules are the bucket's expiration rules, built from the jobs
// file's retention with the layout `connector prune` applies locally
// (prune.Prefixes), so the two agree. Each prefix has a rule for every
// job at the longest retention of the file; a job that keeps a class
// shorter adds a rule for its own prefix, as S3 honours the shorter of two
// overlapping expirations. Objects of a job no longer in the file expire
// with the longest.
func retentionRules(f *job.File) ([]*awss3.LifecycleRule, error) {
	days := func(n int) awscdk.Duration { return awscdk.Duration_Days(jsii.Number(float64(n))) }
	longest := f.LongestRetention()
	var rules []*awss3.LifecycleRule
	for _, p := range prune.Prefixes {
		rules = append(rules, &awss3.LifecycleRule{Id: jsii.String("expire-" + p.Name), Prefix: jsii.String(p.Name + "/"), Expiration: days(p.Days(longest))})
	}
	ids := make([]string, 0, len(f.Jobs))
	for i := range f.Jobs {
		ids = append(ids, f.Jobs[i].ID)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := f.RetentionOf(id)
		for _, p := range prune.Prefixes {
			if d := p.Days(r); d < p.Days(longest) {
				rules = append(rules, &awss3.LifecycleRule{Id: jsii.String("expire-" + p.Name + "-" + id),
					Prefix: jsii.String(p.Name + "/" + id + "/"), Expiration: days(d)})
			}
		}
	}
	// One more rule (abort-incomplete-uploads) is the stack's.
	if n := len(rules) + 1; n > maxLifecycleRules {
		return nil, fmt.Errorf("retention: the jobs' retention needs %d lifecycle rules, and S3 allows %d in a bucket: give more jobs the longest retention (or put it in defaults.retention)", n, maxLifecycleRules)
	}
	return rules, nil
}
