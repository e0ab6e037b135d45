package cron

import (
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // schedules name IANA zones; Lambda images carry no zoneinfo
)

var locations sync.Map // name → *time.Location

// LoadLocation returns the IANA time zone name ("" is UTC), refusing
// "Local": a schedule must not depend on the machine it runs on.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone", name)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone such as Europe/Berlin", name)
	}
	locations.Store(name, l)
	return l, nil
}

// DaysIn is the number of days of month m in year y.
func DaysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// localMidnight is the first instant of the civil day d (a UTC midnight)
// in loc.
func localMidnight(d time.Time, loc *time.Location) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}

// resolve turns a wall time into an instant in loc: false when the wall
// time does not exist (DST gap), the earlier instant when it exists twice.
func resolve(y int, mo time.Month, d, mod int, loc *time.Location) (time.Time, bool) {
	h, mi := mod/60, mod%60
	if loc == time.UTC {
		return time.Date(y, mo, d, h, mi, 0, 0, loc), true
	}
	wall := time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	t := time.Date(y, mo, d, h, mi, 0, 0, loc)
	var best time.Time
	found := false
	for _, probe := range [...]time.Time{t.Add(-3 * time.Hour), t, t.Add(3 * time.Hour)} {
		_, off := probe.Zone()
		u := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if u.Hour() == h && u.Minute() == mi && u.Day() == d && u.Month() == mo && u.Year() == y {
			if !found || u.Before(best) {
				best, found = u, true
			}
		}
	}
	return best, found
}

// civil returns the wall clock of t in loc as a UTC time.
func civil(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}
