package job

import "testing"

// TestExplicitZerosAndUnsafeFolders: a zero the administrator wrote is an
// error naming the field, not a default; maxRunTime is bounded by what a
// Lambda can run; folder names cannot climb out with "..", nor carry NUL
// or control characters.
func TestExplicitZerosAndUnsafeFolders(t *testing.T) {
	checkParse(t, []parseCase{
		{name: "every 0m", yaml: supJob + `    schedule: {every: 0m}`, want: `job "sup": schedule.every: must not be zero`},
		{name: "batchSize 0", yaml: supJob + `    limits: {batchSize: 0}`, want: `job "sup": limits.batchSize: must not be zero`},
		{name: "maxRunTime 0s", yaml: supJob + `    limits: {maxRunTime: 0s}`, want: `job "sup": limits.maxRunTime: must not be zero`},
		{name: "maxRunTime 9999h", yaml: supJob + `    limits: {maxRunTime: 9999h}`, want: `job "sup": limits.maxRunTime: 9999h0m0s is over 15m`},
		{name: "maxRunTime 15m", yaml: supJob + `    limits: {maxRunTime: 15m}`},
		{name: "unset limits", yaml: supJob},
		{name: "moveTo ../../etc", yaml: supJob + `    incoming: {onSuccess: move, moveTo: ../../etc}`, want: `job "sup": incoming.moveTo: "../../etc" has a ".." segment`},
		{name: "moveTo Done/..", yaml: supJob + `    incoming: {onSuccess: move, moveTo: Done/..}`, want: `job "sup": incoming.moveTo:`},
		{name: "moveTo with NUL", yaml: supJob + `    incoming: {onSuccess: move, moveTo: "Done\0x"}`, want: `job "sup": incoming.moveTo: "Done\x00x" holds a control character`},
		{name: "error folder with newline", yaml: supJob + `    incoming: {onError: {folder: "Err\nors"}}`, want: `job "sup": incoming.onError.folder:`},
		{name: "error folder ..", yaml: supJob + `    incoming: {onError: {folder: ..}}`, want: `job "sup": incoming.onError.folder:`},
		{name: "nested folder", yaml: supJob + `    incoming: {onSuccess: move, moveTo: Done/2026.Q1, onError: {folder: Errors/Mail}}`},
	})
}
