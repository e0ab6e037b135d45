package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mattn/go-runewidth"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestTableGolden: CJK and emoji titles line up with ASCII ones, and a
// note under a row leaves the columns alone.
func TestTableGolden(t *testing.T) {
	tw := newTable("NUMBER", "TITLE", "REQUESTER", "SIZE")
	tw.row("1", truncate("Printer on 3rd floor not printing", 30), "ann@example.com", size(512))
	tw.row("2", truncate("プリンターが印刷できません", 30), "taro@example.jp", size(99689150))
	tw.line("  note: %s", "a note stands under its row")
	tw.row("10", truncate("Build broken again 🔥🔥 please look", 30), "bob@example.com", size(4096))
	tw.row("11", truncate("VPN ダウン — 東京オフィス全体で接続できない状態が続いています", 30), "ken@example.jp", size(1<<30))
	var b bytes.Buffer
	if err := tw.write(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "table.golden", b.String(), "table")
	// Each column starts at the same display column on every row.
	var starts []int
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		i := strings.Index(l, "@")
		if i < 0 {
			continue // the header and the note
		}
		col := runewidth.StringWidth(l[:strings.LastIndex(l[:i], "  ")+2])
		starts = append(starts, col)
	}
	for _, s := range starts {
		if s != starts[0] {
			t.Errorf("the REQUESTER column starts at display columns %v, want one", starts)
			break
		}
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		want string
	}{
		{"bytes", 512, "512 B"},
		{"kilobytes", 4096, "4.0 KB"},
		{"megabytes", 99689150, "95.1 MB"},
		{"gigabytes", 1 << 30, "1.0 GB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := size(tt.n); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1788: "1,788", 1234567: "1,234,567", -1788: "-1,788"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d): got %s, want %s", n, got, want)
		}
	}
}

// checkGolden compares got with testdata/name, which -update rewrites.
func checkGolden(t *testing.T, name, got, what string) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}
