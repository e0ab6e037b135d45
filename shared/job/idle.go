package job

import (
	"fmt"
	"strings"
	"time"
)

// Polling a quiet mailbox less often.
//
// Every scheduled run of a job costs an EventBridge Scheduler invocation
// and a Lambda request however little it does, and a full poll (lease,
// mailbox session, run record) several times that. A job polled every
// minute whose mailbox stays empty for days pays for 43,200 full polls a
// month. With schedule.idleEvery, once the job's runs have found nothing
// for idleAfter, its scheduled runs poll only every idleEvery: the others
// end after reading the job's state. The first run that finds mail ends
// the quiet spell, and the schedule's own interval applies again. Push,
// follow-up and manual runs always poll.

// DefaultIdleAfter is how long a job's runs must have found nothing
// before idleEvery applies, when idleAfter is not given.
const DefaultIdleAfter = time.Hour

// maxIdleEvery bounds idleEvery: a quiet mailbox is still looked at daily.
const maxIdleEvery = 24 * time.Hour

// IdleAfterOrDefault is IdleAfter, or DefaultIdleAfter when not set.
func (s *Schedule) IdleAfterOrDefault() time.Duration {
	if s.IdleAfter > 0 {
		return s.IdleAfter.D()
	}
	return DefaultIdleAfter
}

// checkIdle checks idleEvery and idleAfter.
func (s *Schedule) checkIdle() *ScheduleError {
	switch {
	case s.IdleEvery < 0 || s.IdleEvery.D() > maxIdleEvery:
		return schedErr("idleEvery", "%s is not between 0 (off) and %s", ShortDuration(s.IdleEvery.D()), ShortDuration(maxIdleEvery))
	case s.IdleEvery > 0 && s.IdleEvery.D() < time.Minute:
		return schedErr("idleEvery", "%s is under a minute", ShortDuration(s.IdleEvery.D()))
	case s.IdleAfter < 0:
		return schedErr("idleAfter", "%s is negative", ShortDuration(s.IdleAfter.D()))
	case s.IdleAfter != 0 && s.IdleEvery == 0:
		return schedErr("idleAfter", "only with idleEvery")
	}
	return nil
}

// DescribeIdle says the idle polling in words, "" without it.
func (s *Schedule) DescribeIdle() string {
	if s.IdleEvery <= 0 {
		return ""
	}
	return fmt.Sprintf("every %s once nothing came for %s", ShortDuration(s.IdleEvery.D()), ShortDuration(s.IdleAfterOrDefault()))
}

// ShortDuration writes a duration without its zero units: 15m, 1h, 1h30m.
func ShortDuration(d time.Duration) string {
	v := d.String()
	if strings.HasSuffix(v, "m0s") {
		v = strings.TrimSuffix(v, "0s")
	}
	if strings.HasSuffix(v, "h0m") {
		v = strings.TrimSuffix(v, "0m")
	}
	return v
}
