package main

// The -aws mode: what the deployed pipeline costs per message and per
// idle mailbox-month. It runs the functions' handlers on the AWS adapters
// against moto with Dovecot as the mailbox (awsstack.go) twice: a counted
// pass whose DynamoDB request units are reckoned from item sizes
// (capacity.go), and a timed pass without that reckoning, whose wall
// times become Lambda GB-seconds at the stack's memory sizes. The counts
// are multiplied by the prices in prices.go.

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"mailconnector/shared/awsenv/envnames"
	"mailconnector/shared/mailgen"
	"mailconnector/shared/testkit/awstest"
	"mailconnector/shared/testkit/dovecottest"
)

const (
	runsPerMonth1 = 30 * 24 * 60 // 1-minute polling, a 30-day month
	runsPerMonth5 = 30 * 24 * 12 // 5-minute polling
	// idle runs measured: an hour of each polling interval
	idleRuns1 = 60
	idleRuns5 = 12
	// platformLogBytes is what Lambda itself writes to the log group per
	// invocation (START, END and REPORT lines, text format): about 300
	// bytes, an estimate.
	platformLogBytes = 300
	goalPerMillion   = 25.0
	goalIdleMonth    = 0.10
)

// awsResult is one pass: the messages phase and the two idle phases.
type awsResult struct {
	msgs         tally
	idle1, idle5 tally
	walls1       []time.Duration // per idle run, timed pass
	walls5       []time.Duration
}

func runAWS(ctx context.Context, n int, seed int64, keep bool) error {
	work, err := os.MkdirTemp("", "connector-bench-aws-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(work)
	}
	var raws [][]byte
	var total int64
	if err := mailgen.Generate(n, &mailgen.Options{Seed: seed, Domain: "bench.example"}, func(_ int, m mailgen.Message) error {
		raws = append(raws, m.Raw)
		total += int64(len(m.Raw))
		return nil
	}); err != nil {
		return err
	}
	fmt.Printf("Mail Connector cost model: %d messages (%.1f MB, mailgen's mix, seed %d) through the fetch, preprocess and rules handlers\n"+
		"on moto (DynamoDB, S3, SQS, KMS, Secrets Manager, EventBridge) with Dovecot; %d and %d idle runs (an hour of 1- and 5-minute polling)\n\n",
		n, float64(total)/(1<<20), seed, idleRuns1, idleRuns5)

	m, err := awstest.StartProcess()
	if err != nil {
		return err
	}
	defer m.Stop()
	dc, err := dovecottest.StartProcess(nil)
	if err != nil {
		return err
	}
	defer dc.Stop()
	// Interrupted, the servers stop with the bench rather than outlive it.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			dc.Stop()
			m.Stop()
			os.Exit(1)
		}
	}()

	pass := func(prefix string, withCapacity bool) (awsResult, error) {
		s, err := newAWSStack(ctx, m, dc, work, prefix, withCapacity)
		if err != nil {
			return awsResult{}, err
		}
		var r awsResult
		if r.msgs, err = s.messagesPhase(raws); err != nil {
			return r, fmt.Errorf("%s pass, messages: %w", prefix, err)
		}
		if r.idle1, r.walls1, err = s.idlePhase(idleRuns1, time.Minute); err != nil {
			return r, fmt.Errorf("%s pass, idle runs: %w", prefix, err)
		}
		if r.idle5, r.walls5, err = s.idlePhase(idleRuns5, 5*time.Minute); err != nil {
			return r, fmt.Errorf("%s pass, idle runs: %w", prefix, err)
		}
		return r, nil
	}
	start := time.Now()
	counted, err := pass("counted", true)
	if err != nil {
		return err
	}
	timed, err := pass("timed", false)
	if err != nil {
		return err
	}
	fmt.Printf("both passes in %s\n\n", time.Since(start).Round(time.Second))
	printCost(n, counted, timed)
	return nil
}

// perUnit returns v/d, 0 when d is 0.
func perUnit(v float64, d int) float64 {
	if d == 0 {
		return 0
	}
	return v / float64(d)
}

// line is one billed quantity: how much a message and an idle run use.
type line struct {
	what                string
	p                   price
	msg, idle1, idle5   float64 // units per message, per idle run
	month1, month5, per float64 // dollars: idle month at 1 and 5 minutes, per million messages
}

func printCost(n int, counted, timed awsResult) {
	// The API calls, per message and per idle run.
	fmt.Println("| AWS API call | per message | per idle run, 1-min polling | per idle run, 5-min polling |")
	fmt.Println("|---|---|---|---|")
	keys := map[awstest.Call]bool{}
	for _, t := range []tally{counted.msgs, counted.idle1, counted.idle5} {
		for k := range t.calls {
			keys[k] = true
		}
	}
	var sorted []awstest.Call
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].String() < sorted[j].String() })
	for _, k := range sorted {
		fmt.Printf("| %s | %.3f | %.3f | %.3f |\n", k, perUnit(float64(counted.msgs.calls[k]), n),
			perUnit(float64(counted.idle1.calls[k]), idleRuns1), perUnit(float64(counted.idle5.calls[k]), idleRuns5))
	}

	// Lambda: invocations and time per function.
	fmt.Println()
	fmt.Println("| function (memory) | invocations per message | wall per message | GB-s per message | wall per idle run (median) |")
	fmt.Println("|---|---|---|---|---|")
	scheduled := 2 // the runs that fetched and then disposed the mail: polls that happen anyway
	var lines []line
	var lambdaReqMsg float64
	for _, f := range measuredFunctions {
		inv := timed.msgs.invocations[f.name]
		if f.name == envnames.Fetch {
			inv -= scheduled
		}
		lambdaReqMsg += perUnit(float64(inv), n)
		wall := timed.msgs.wall[f.name]
		gbs := wall.Seconds() * f.memoryMB / 1024
		idleWall := "-"
		var g1, g5 float64
		if f.name == envnames.Fetch {
			w1, w5 := median(timed.walls1), median(timed.walls5)
			idleWall = fmt.Sprintf("%s (1 min), %s (5 min)", w1.Round(100*time.Microsecond), w5.Round(100*time.Microsecond))
			g1, g5 = billedMS(w1)/1000*f.memoryMB/1024, billedMS(w5)/1000*f.memoryMB/1024
		}
		fmt.Printf("| %s (%.0f MB) | %.3f | %s | %.4f | %s |\n", f.name, f.memoryMB, perUnit(float64(inv), n),
			(wall / time.Duration(n)).Round(10*time.Microsecond), perUnit(gbs, n), idleWall)
		lines = append(lines, line{what: fmt.Sprintf("Lambda %s GB-s (%.0f MB)", f.name, f.memoryMB), p: priceLambdaArm,
			msg: perUnit(gbs, n), idle1: g1, idle5: g5})
	}

	// The billed units.
	s3put := func(t tally) float64 {
		var v int
		for k, c := range t.calls {
			if k.Service == "S3" && s3PutClass(k.Operation) {
				v += c
			}
		}
		return float64(v)
	}
	s3get := func(t tally) float64 {
		var v int
		for k, c := range t.calls {
			if k.Service == "S3" && !s3PutClass(k.Operation) && !s3Free(k.Operation) {
				v += c
			}
		}
		return float64(v)
	}
	service := func(t tally, svc string) float64 {
		var v int
		for k, c := range t.calls {
			if k.Service == svc {
				v += c
			}
		}
		return float64(v)
	}
	logGB := func(t tally) float64 {
		var b int64
		inv := 0
		for f, v := range t.logBytes {
			b += v
			inv += t.invocations[f]
		}
		return float64(b+int64(inv)*platformLogBytes) / 1e9
	}
	three := func(what string, p price, f func(tally) float64) line {
		return line{what: what, p: p, msg: f(counted.msgs) / float64(n), idle1: f(counted.idle1) / idleRuns1, idle5: f(counted.idle5) / idleRuns5}
	}
	lines = append([]line{
		three("DynamoDB write request units", priceDynamoWrite, func(t tally) float64 { return t.wru }),
		three("DynamoDB read request units", priceDynamoRead, func(t tally) float64 { return t.rru }),
		three("S3 PUT, COPY, POST, LIST requests", priceS3Put, s3put),
		three("S3 GET and other requests", priceS3Get, s3get),
		three("SQS requests (64 KB chunks)", priceSQS, func(t tally) float64 { return float64(t.meter.sqsBilled) }),
		three("EventBridge events", priceEvents, func(t tally) float64 { return float64(t.meter.events) }),
		three("KMS requests", priceKMSRequest, func(t tally) float64 { return service(t, "KMS") }),
		three("Secrets Manager calls", priceSecretsRequest, func(t tally) float64 { return service(t, "Secrets Manager") }),
		{what: "Lambda requests", p: priceLambdaRequest, msg: lambdaReqMsg, idle1: 1, idle5: 1},
		{what: "EventBridge Scheduler invocations", p: priceScheduler, idle1: 1, idle5: 1},
		{what: "CloudWatch Logs ingestion, GB", p: priceLogsIngest, msg: logGB(timed.msgs) / float64(n),
			idle1: logGB(timed.idle1) / idleRuns1, idle5: logGB(timed.idle5) / idleRuns5},
	}, lines...)
	idx := counted.msgs.indexWRU / float64(n)

	var perMillion, month1, month5 float64
	fmt.Println()
	fmt.Printf("| billed unit | per message | per idle run, 1 min | per idle run, 5 min | price (us-east-1, read %s) | per million messages | per idle mailbox-month, 1-min polling | 5-min polling |\n", pricesRead)
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for i := range lines {
		l := &lines[i]
		l.per = l.msg * 1e6 * l.p.usd
		l.month1 = l.idle1 * runsPerMonth1 * l.p.usd
		l.month5 = l.idle5 * runsPerMonth5 * l.p.usd
		perMillion += l.per
		month1 += l.month1
		month5 += l.month5
		fmt.Printf("| %s | %s | %s | %s | $%s per %s | $%.2f | $%.4f | $%.4f |\n", l.what, qty(l.msg), qty(l.idle1), qty(l.idle5),
			qty(l.p.usd), l.p.unit, l.per, l.month1, l.month5)
	}
	// Custom metrics: one per metric name and job, billed for each hour
	// it is sent in. An idle run that sends any sends them every hour.
	m1, m5 := float64(len(counted.idle1.metrics)), float64(len(counted.idle5.metrics))
	fmt.Printf("| CloudWatch custom metrics sent by idle runs (%s) | - | %.0f | %.0f | $%.2f per %s | - | $%.4f | $%.4f |\n",
		names(counted.idle1.metrics), m1, m5, priceMetric.usd, priceMetric.unit, m1*priceMetric.usd, m5*priceMetric.usd)
	month1 += m1 * priceMetric.usd
	month5 += m5 * priceMetric.usd
	fmt.Printf("| **total** | | | | | **$%.2f** | **$%.4f** | **$%.4f** |\n", perMillion, month1, month5)

	printStorage(n, counted.msgs)

	fmt.Println()
	fmt.Println("| DynamoDB write units by item (table and its index entries) | per message | per idle run, 1 min |")
	fmt.Println("|---|---|---|")
	kinds := map[string]bool{}
	for k := range counted.msgs.wruByKind {
		kinds[k] = true
	}
	for k := range counted.idle1.wruByKind {
		kinds[k] = true
	}
	for _, k := range sortedKeys(kinds) {
		fmt.Printf("| %s | %.2f | %.2f |\n", k, counted.msgs.wruByKind[k]/float64(n), counted.idle1.wruByKind[k]/idleRuns1)
	}
	fmt.Println()
	fmt.Printf("DynamoDB write units per message: %.2f, of them %.2f for index entries\n", counted.msgs.wru/float64(n), idx)
	fmt.Printf("goal ≤ $%.0f per million messages: $%.2f, %s\n", goalPerMillion, perMillion, verdict(perMillion <= goalPerMillion))
	fmt.Printf("goal ≤ $%.2f per idle mailbox-month at 1-minute polling: $%.4f, %s (5-minute polling: $%.4f)\n",
		goalIdleMonth, month1, verdict(month1 <= goalIdleMonth), month5)
	fmt.Printf("a mailbox also costs, polled or not: its secret $%.2f a month and its connection alarm $%.2f a month; the deployment its KMS key, $%.2f a month\n",
		priceSecret.usd, priceAlarm.usd, priceKMSKey.usd)
	if d := math.Abs(float64(timed.msgs.invocations[envnames.Preprocess] - counted.msgs.invocations[envnames.Preprocess])); d > 0 {
		fmt.Printf("note: the timed pass made %d preprocess invocations, the counted pass %d\n",
			timed.msgs.invocations[envnames.Preprocess], counted.msgs.invocations[envnames.Preprocess])
	}
}

// Default retention (job.DefaultRawDays, job.DefaultNormalizedDays, the
// stack's ledger and run TTLs), in 30-day months.
var retentionMonths = map[string]float64{
	"S3 raw": 1, "S3 traces": 1, "S3 norm": 365.0 / 30, "S3 att": 365.0 / 30,
	"DynamoDB LEDGER": 3, "DynamoDB FP": 3, "DynamoDB LWHO": 3, "DynamoDB RUNS": 1,
}

// printStorage: what a message leaves stored, and what keeping it costs.
func printStorage(n int, t tally) {
	fmt.Println()
	fmt.Println("| stored per message | bytes | kept (default retention) | per million messages |")
	fmt.Println("|---|---|---|---|")
	type row struct {
		name  string
		bytes int64
		p     price
	}
	var rows []row
	for k, v := range t.s3Bytes {
		rows = append(rows, row{"S3 " + k, v, priceS3Storage})
	}
	for k, v := range t.dynamoBytes {
		rows = append(rows, row{"DynamoDB " + k, v, priceDynamoStorage})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	var lifetime, monthly float64
	for _, r := range rows {
		gb := float64(r.bytes) / float64(n) * 1e6 / 1e9 // per million messages
		if months, ok := retentionMonths[r.name]; ok {
			c := gb * months * r.p.usd
			lifetime += c
			fmt.Printf("| %s | %.0f | %.1f months | $%.2f |\n", r.name, float64(r.bytes)/float64(n), months, c)
			continue
		}
		c := gb * r.p.usd
		monthly += c
		fmt.Printf("| %s | %.0f | until deleted | $%.3f a month |\n", r.name, float64(r.bytes)/float64(n), c)
	}
	fmt.Printf("| **storage** | | | **$%.2f over the retention, then $%.3f a month** |\n", lifetime, monthly)
}

// billedMS is a duration as Lambda bills it: whole milliseconds, rounded up.
func billedMS(d time.Duration) float64 { return math.Ceil(float64(d) / float64(time.Millisecond)) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// qty prints a small quantity readably.
func qty(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 0.01:
		return fmt.Sprintf("%.3g", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func names(set map[string]bool) string {
	if len(set) == 0 {
		return "none"
	}
	return strings.Join(sortedKeys(set), ", ")
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// s3PutClass: the operations S3 bills at the PUT, COPY, POST, LIST rate.
func s3PutClass(op string) bool {
	switch op {
	case "PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
		"ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads", "ListParts", "ListBuckets":
		return true
	}
	return false
}

// s3Free: DELETE and CANCEL requests cost nothing.
func s3Free(op string) bool {
	return op == "DeleteObject" || op == "DeleteObjects" || op == "AbortMultipartUpload"
}
