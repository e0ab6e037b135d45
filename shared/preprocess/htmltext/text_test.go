package htmltext

import "testing"

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, html, want string
	}{
		{"paragraphs and br", "<p>One<br>Two</p><p>Three</p>", "One\nTwo\n\nThree"},
		{"list", "<ul><li>a</li><li>b <b>c</b></li></ul>", "- a\n- b c"},
		{"link", `<a href="https://x.example/a">docs</a> and <a href="https://x.example">https://x.example</a>`, "docs (https://x.example/a) and https://x.example"},
		{"table", "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td></td><td>3</td></tr></table>", "A | B\n1 | 3"},
		{"dropped", "<head><title>T</title><style>p{}</style></head><script>x()</script><p>Hi</p>", "Hi"},
		{"blockquote", "<p>new</p><blockquote>old<br>older</blockquote>", "new\n\n> old\n> older"},
		{"whitespace", "<div>  a \n  b  </div><div>c</div>", "a b\nc"},
		{"pre", "<pre>a\n  b</pre>", "a\n  b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(Parse(tt.html)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
