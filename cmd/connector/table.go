package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mattn/go-runewidth"
)

// table writes rows in columns aligned by display width (a CJK character
// or an emoji takes two columns of a terminal), two spaces apart. Lines
// added with line stand under their row and leave the columns alone.
type table struct {
	indent string
	rows   []tableRow
}

type tableRow struct {
	cells []string
	line  string // a free line (note, error) instead of cells
}

// newTable starts a table; header, when given, is its first row.
func newTable(header ...string) *table {
	t := &table{}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row adds a row of cells.
func (t *table) row(cells ...string) { t.rows = append(t.rows, tableRow{cells: cells}) }

// line adds a free line, printed as is under the rows before it.
func (t *table) line(format string, args ...any) {
	t.rows = append(t.rows, tableRow{line: fmt.Sprintf(format, args...)})
}

func (t *table) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r.cells {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		if r.cells == nil {
			b.WriteString(r.line)
			b.WriteByte('\n')
			continue
		}
		b.WriteString(t.indent)
		for i, c := range r.cells {
			b.WriteString(c)
			if i < len(r.cells)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// truncate shows s on one line, cut to n columns of the terminal.
func truncate(s string, n int) string {
	s = shown(strings.Join(strings.Fields(s), " "))
	return runewidth.Truncate(s, n, "…")
}

// size is a byte count as people read it: 512 B, 4.0 KB, 95.1 MB (units
// of 1024).
func size(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %cB", f, units[i])
}

// thousands writes n with a comma between groups of three digits: 1,788.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
