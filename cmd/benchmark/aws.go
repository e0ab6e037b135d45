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
	"mailconnector/shared/job"
	"mailconnector/shared/mailgen"
	"mailconnector/shared/testkit/awstest"
	"mailconnector/shared/testkit/dovecottest"
)

const (
	runsPerMonth1 = 30 * 24 * 60 // 1-minute polling, a 30-day month
	runsPerMonth5 = 30 * 24 * 12 // 5-minute polling
	// idle runs measured: an hour of each polling interval, and two hours
	// of 1-minute polling with schedule.idleEvery (after its first hour)
	idleRuns1  = 60
	idleRuns5  = 12
	quietRuns  = 120
	quietEvery = 15 * time.Minute
	quietAfter = time.Hour
	// platformLogBytes is what Lambda itself writes to the log group per
	// invocation (START, END and REPORT lines, text format): about 300
	// bytes, an estimate.
	platformLogBytes = 300
	goalPerMillion   = 25.0
	goalIdleMonth    = 0.10
)

// awsResult is one pass: the messages phase and the idle phases.
type awsResult struct {
	msgs  tally
	idle  [4]tally // idleColumns
	polls [4][]time.Duration
	skips [4][]time.Duration
}

// idleColumns are the idle phases: 1-minute and 5-minute polling as
// scheduled, and 1-minute polling with schedule.idleEvery.
var idleColumns = [4]struct {
	name     string
	runs     int // measured
	perMonth int // scheduled invocations in 30 days
}{
	{"1-min", idleRuns1, runsPerMonth1},
	{"5-min", idleRuns5, runsPerMonth5},
	{"1-min with idleEvery 15m", quietRuns, runsPerMonth1},
	{"1-min with idleEvery 30m", quietRuns, runsPerMonth1},
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
		"on moto (DynamoDB, S3, SQS, KMS, Secrets Manager, EventBridge) with Dovecot; %d and %d idle runs (an hour of 1- and 5-minute polling),\n"+
		"and %d each at 1-minute polling with schedule.idleEvery 15m and 30m (after the quiet spell's first %s, idleAfter)\n\n",
		n, float64(total)/(1<<20), seed, idleRuns1, idleRuns5, quietRuns, job.ShortDuration(quietAfter))

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
		if r.idle[0], r.polls[0], r.skips[0], err = s.idlePhase(idleRuns1, time.Minute); err != nil {
			return r, fmt.Errorf("%s pass, idle runs: %w", prefix, err)
		}
		if r.idle[1], r.polls[1], r.skips[1], err = s.idlePhase(idleRuns5, 5*time.Minute); err != nil {
			return r, fmt.Errorf("%s pass, idle runs: %w", prefix, err)
		}
		for i, every := range []time.Duration{15 * time.Minute, 30 * time.Minute} {
			if r.idle[2+i], r.polls[2+i], r.skips[2+i], err = s.quietPhase(every, quietAfter, quietRuns); err != nil {
				return r, fmt.Errorf("%s pass, quiet runs: %w", prefix, err)
			}
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

// line is one billed quantity: how much a message and an idle
// invocation use, and what that costs.
type line struct {
	what  string
	p     price
	msg   float64    // units per message
	idle  [4]float64 // units per scheduled invocation, idleColumns
	per   float64    // dollars per million messages
	month [4]float64 // dollars per idle mailbox-month
}

func printCost(n int, counted, timed awsResult) {
	header := func(first string) {
		fmt.Printf("| %s | per message |", first)
		for _, c := range idleColumns {
			fmt.Printf(" per idle invocation, %s |", c.name)
		}
		fmt.Println()
		fmt.Println("|---|---|" + strings.Repeat("---|", len(idleColumns)))
	}
	// The API calls, per message and per scheduled invocation.
	header("AWS API call")
	keys := map[awstest.Call]bool{}
	for k := range counted.msgs.calls {
		keys[k] = true
	}
	for _, t := range counted.idle {
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
		fmt.Printf("| %s | %.3f |", k, perUnit(float64(counted.msgs.calls[k]), n))
		for i, c := range idleColumns {
			fmt.Printf(" %.3f |", perUnit(float64(counted.idle[i].calls[k]), c.runs))
		}
		fmt.Println()
	}

	// Lambda: invocations and time per function.
	fmt.Println()
	fmt.Println("| function (memory) | invocations per message | wall per message | GB-s per message | idle invocation: wall of a poll (median), of one that ends at once |")
	fmt.Println("|---|---|---|---|---|")
	scheduled := 2 // the runs that fetched and then disposed the mail: polls that happen anyway
	var lambda []line
	var lambdaReqMsg float64
	for _, f := range measuredFunctions {
		inv := timed.msgs.invocations[f.name]
		if f.name == envnames.Fetch {
			inv -= scheduled
		}
		lambdaReqMsg += perUnit(float64(inv), n)
		wall := timed.msgs.wall[f.name]
		gbs := wall.Seconds() * f.memoryMB / 1024
		l := line{what: fmt.Sprintf("Lambda %s GB-s (%.0f MB)", f.name, f.memoryMB), p: priceLambdaArm, msg: perUnit(gbs, n)}
		idleWall := "-"
		if f.name == envnames.Fetch {
			var parts []string
			for i, c := range idleColumns {
				p, sk := timed.polls[i], timed.skips[i]
				mp, ms := median(p), median(sk)
				// GB-s per scheduled invocation: polls and early ends at
				// their medians, in the proportion measured.
				ms2 := (float64(len(p))*billedMS(mp) + float64(len(sk))*billedMS(ms)) / float64(len(p)+len(sk))
				l.idle[i] = ms2 / 1000 * f.memoryMB / 1024
				d := fmt.Sprintf("%s: %s", c.name, mp.Round(100*time.Microsecond))
				if len(sk) > 0 {
					d += fmt.Sprintf(", %s (%d of %d end at once)", ms.Round(100*time.Microsecond), len(sk), len(p)+len(sk))
				}
				parts = append(parts, d)
			}
			idleWall = strings.Join(parts, "; ")
		}
		fmt.Printf("| %s (%.0f MB) | %.3f | %s | %.4f | %s |\n", f.name, f.memoryMB, perUnit(float64(inv), n),
			(wall / time.Duration(n)).Round(10*time.Microsecond), perUnit(gbs, n), idleWall)
		lambda = append(lambda, l)
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
	from := func(what string, p price, src awsResult, f func(tally) float64) line {
		l := line{what: what, p: p, msg: f(src.msgs) / float64(n)}
		for i, c := range idleColumns {
			l.idle[i] = f(src.idle[i]) / float64(c.runs)
		}
		return l
	}
	one := func(tally) float64 { return 0 } // set below
	lines := []line{
		from("DynamoDB write request units", priceDynamoWrite, counted, func(t tally) float64 { return t.wru }),
		from("DynamoDB read request units", priceDynamoRead, counted, func(t tally) float64 { return t.rru }),
		from("S3 PUT, COPY, POST, LIST requests", priceS3Put, counted, s3put),
		from("S3 GET and other requests", priceS3Get, counted, s3get),
		from("SQS requests (64 KB chunks)", priceSQS, counted, func(t tally) float64 { return float64(t.meter.sqsBilled) }),
		from("EventBridge events", priceEvents, counted, func(t tally) float64 { return float64(t.meter.events) }),
		from("KMS requests", priceKMSRequest, counted, func(t tally) float64 { return service(t, "KMS") }),
		from("Secrets Manager calls", priceSecretsRequest, counted, func(t tally) float64 { return service(t, "Secrets Manager") }),
		from("Lambda requests", priceLambdaRequest, counted, one),
		from("EventBridge Scheduler invocations", priceScheduler, counted, one),
		from("CloudWatch Logs ingestion, GB", priceLogsIngest, timed, logGB),
	}
	// Every scheduled invocation is one Scheduler invocation and one
	// Lambda request; a message's Lambda requests are its batches.
	lines[8].msg, lines[9].msg = lambdaReqMsg, 0
	for i := range idleColumns {
		lines[8].idle[i], lines[9].idle[i] = 1, 1
	}
	lines = append(lines, lambda...)

	var perMillion float64
	var month [4]float64
	fmt.Println()
	var cols []string
	for _, c := range idleColumns {
		cols = append(cols, c.name)
	}
	fmt.Printf("| billed unit | per message | per idle invocation: %s | price (us-east-1, read %s) | per million messages | per idle mailbox-month: %s |\n",
		strings.Join(cols, "; "), pricesRead, strings.Join(cols, "; "))
	fmt.Println("|---|---|---|---|---|---|")
	for i := range lines {
		l := &lines[i]
		l.per = l.msg * 1e6 * l.p.usd
		perMillion += l.per
		var q, m []string
		for k, c := range idleColumns {
			l.month[k] = l.idle[k] * float64(c.perMonth) * l.p.usd
			month[k] += l.month[k]
			q = append(q, qty(l.idle[k]))
			m = append(m, fmt.Sprintf("$%.4f", l.month[k]))
		}
		fmt.Printf("| %s | %s | %s | $%s per %s | $%.2f | %s |\n", l.what, qty(l.msg), strings.Join(q, ", "),
			qty(l.p.usd), l.p.unit, l.per, strings.Join(m, ", "))
	}
	// Custom metrics: one per metric name and job, billed for each hour
	// it is sent in. Idle runs that send any send them every hour.
	var q, m []string
	for k := range idleColumns {
		v := float64(len(counted.idle[k].metrics))
		month[k] += v * priceMetric.usd
		q = append(q, fmt.Sprintf("%.0f", v))
		m = append(m, fmt.Sprintf("$%.4f", v*priceMetric.usd))
	}
	fmt.Printf("| CloudWatch custom metrics sent by idle runs (%s) | - | %s | $%.2f per %s | - | %s |\n",
		names(counted.idle[0].metrics), strings.Join(q, ", "), priceMetric.usd, priceMetric.unit, strings.Join(m, ", "))
	var totals []string
	for _, m := range month {
		totals = append(totals, fmt.Sprintf("$%.4f", m))
	}
	fmt.Printf("| **total** | | | | **$%.2f** | **%s** |\n", perMillion, strings.Join(totals, ", "))

	printStorage(n, counted.msgs)

	fmt.Println()
	fmt.Println("| DynamoDB write units by item (table and its index entries) | per message | per idle invocation, 1-min | 1-min with idleEvery 15m |")
	fmt.Println("|---|---|---|---|")
	kinds := map[string]bool{}
	for k := range counted.msgs.wruByKind {
		kinds[k] = true
	}
	for _, t := range counted.idle {
		for k := range t.wruByKind {
			kinds[k] = true
		}
	}
	for _, k := range sortedKeys(kinds) {
		fmt.Printf("| %s | %.2f | %.2f | %.3f |\n", k, counted.msgs.wruByKind[k]/float64(n),
			counted.idle[0].wruByKind[k]/float64(idleColumns[0].runs), counted.idle[2].wruByKind[k]/float64(idleColumns[2].runs))
	}

	fmt.Println()
	fmt.Printf("DynamoDB write units per message: %.2f, of them %.2f for index entries\n", counted.msgs.wru/float64(n), counted.msgs.indexWRU/float64(n))
	fmt.Printf("goal ≤ $%.0f per million messages: $%.2f, %s\n", goalPerMillion, perMillion, verdict(perMillion <= goalPerMillion))
	fmt.Printf("goal ≤ $%.2f per idle mailbox-month at 1-minute polling: $%.4f, %s; with schedule.idleEvery 15m: $%.4f, %s; 30m: $%.4f, %s (5-minute polling: $%.4f)\n",
		goalIdleMonth, month[0], verdict(month[0] <= goalIdleMonth), month[2], verdict(month[2] <= goalIdleMonth),
		month[3], verdict(month[3] <= goalIdleMonth), month[1])
	fmt.Printf("a mailbox also costs, polled or not: its secret $%.2f a month and its connection alarm $%.2f a month; the deployment its KMS key, $%.2f a month\n",
		priceSecret.usd, priceAlarm.usd, priceKMSKey.usd)
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
