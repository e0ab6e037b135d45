package job

// ScheduleError is a problem with a schedule block; Field is relative to it.
type ScheduleError struct {
	Field string
	Msg   string
}

func (e *ScheduleError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks the schedule block.
func (s *Schedule) Validate() *ScheduleError {
	return nil
}
