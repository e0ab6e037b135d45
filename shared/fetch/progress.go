package fetch

// Progress is where a run stands after one batch: Options.Progress
// receives it, so that an operator watching a backlog sees it move.
type Progress struct {
	JobID, RunID string
	// Fetched and Bytes are what this run took so far; Left is how many
	// listed messages it has not taken yet (a follow-up run takes those
	// past its limit).
	Fetched int
	Bytes   int64
	Left    int
}

// progress reports the run's advance after a batch, left messages to go.
func (rs *runState) progress(left int) {
	if rs.s.o.Progress == nil {
		return
	}
	rs.s.o.Progress(Progress{JobID: rs.j.ID, RunID: rs.r.ID, Fetched: rs.r.Fetched, Bytes: rs.r.Bytes, Left: left})
}
