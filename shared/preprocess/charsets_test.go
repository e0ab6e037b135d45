package preprocess

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func encode(tb testing.TB, e encoding.Encoding, s string) []byte {
	tb.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		tb.Fatalf("encode %q: %v", s, err)
	}
	return b
}

func TestDetectCharset(t *testing.T) {
	tests := []struct {
		name string
		enc  encoding.Encoding
		text string
		want string
	}{
		{"german windows-1252", charmap.Windows1252, "Grüße aus München, die Straße ist gesperrt – schöne Woche.", "windows-1252"},
		{"french windows-1252", charmap.Windows1252, "Le rendez-vous est confirmé à 10 h, merci d'avance.", "windows-1252"},
		{"russian windows-1251", charmap.Windows1251, "Добрый день! Почта не отправляется с утра, пишет ошибку сервера.", "windows-1251"},
		{"russian koi8-r", charmap.KOI8R, "Добрый день! Почта не отправляется с утра, пишет ошибку сервера.", "koi8-r"},
		{"japanese shift_jis", japanese.ShiftJIS, "お疲れ様です。パスワードの再設定をお願いします。", "shift_jis"},
		{"japanese euc-jp", japanese.EUCJP, "お疲れ様です。パスワードの再設定をお願いします。", "euc-jp"},
		{"japanese iso-2022-jp", japanese.ISO2022JP, "お疲れ様です。", "iso-2022-jp"},
		{"chinese gb18030", simplifiedchinese.GB18030, "您好，我的邮箱从今天早上开始无法登录，提示密码错误。谢谢", "gb18030"},
		{"chinese big5", traditionalchinese.Big5, "您好，我的電腦今天無法連線到公司網路，請問該怎麼處理？謝謝", "big5"},
		{"korean euc-kr", korean.EUCKR, "안녕하세요, 프린터가 작동하지 않습니다. 확인 부탁드립니다.", "euc-kr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := encode(t, tt.enc, tt.text)
			if got := detectCharset(raw); got != tt.want {
				t.Errorf("detectCharset: got %s, want %s", got, tt.want)
			}
			if got := decodeFallback(raw); got != tt.text {
				t.Errorf("decodeFallback: got %q, want %q", got, tt.text)
			}
		})
	}
	if got := detectCharset([]byte("plain ascii")); got != "utf-8" {
		t.Errorf("ascii: got %s, want utf-8", got)
	}
}

func TestToUTF8(t *testing.T) {
	tests := []struct {
		name     string
		raw      []byte
		label    string
		want     string
		wantNote string // substring; "" means no note
	}{
		{"latin1 label holds windows-1252", []byte("\x93hi\x94 \x80"), "ISO-8859-1", "“hi” €", ""},
		{"us-ascii label with 8-bit", []byte("caf\xe9"), "us-ascii", "café", ""},
		{"gb2312 label holds gb18030", encode(t, simplifiedchinese.GB18030, "打印机𠀀"), "gb2312", "打印机𠀀", ""},
		{"ks_c_5601-1987", encode(t, korean.EUCKR, "프린터"), "ks_c_5601-1987", "프린터", ""},
		{"win-1251 misspelt", encode(t, charmap.Windows1251, "Привет"), "win-1251", "Привет", ""},
		{"quoted label", []byte("ok"), `"utf-8"`, "ok", ""},
		{"utf-8 labelled latin1", []byte("été déjà"), "iso-8859-1", "été déjà", "bytes are UTF-8"},
		{"utf-8 label on windows-1252", []byte("Gr\xfc\xdfe"), "utf-8", "Grüße", "detected windows-1252"},
		{"unknown label", encode(t, charmap.Windows1251, "Привет, как дела"), "x-klingon", "Привет, как дела", `unknown charset "x-klingon"`},
		{"no label", encode(t, charmap.KOI8R, "Принтер не работает"), "", "Принтер не работает", "detected koi8-r"},
		{"utf-32", []byte{0, 0, 0xFE, 0xFF, 0, 0, 0, 'a'}, "utf-32", "a", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note := toUTF8(tt.raw, tt.label)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			switch {
			case tt.wantNote == "" && note != "":
				t.Errorf("got note %q, want none", note)
			case tt.wantNote != "" && !strings.Contains(note, tt.wantNote):
				t.Errorf("got note %q, want it to contain %q", note, tt.wantNote)
			}
		})
	}
}

func TestDecodeWords(t *testing.T) {
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	u := []byte("Überweisung")
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello", "hello"},
		{"q", "=?utf-8?q?caf=C3=A9_au_lait?=", "café au lait"},
		{"b", "=?UTF-8?B?w6l0w6k=?=", "été"},
		{"b without padding", "=?UTF-8?B?w6l0w6k?=", "été"},
		{"adjacent words lose the space", "=?utf-8?q?a?= =?utf-8?q?b?=", "ab"},
		{"text keeps its space", "Re: =?utf-8?q?caf=C3=A9?= ok", "Re: café ok"},
		{"no space before word", "Re:=?iso-8859-1?q?caf=E9?=time", "Re:cafétime"},
		{"space inside q word", "=?utf-8?Q?hello world?=", "hello world"},
		{"split multi-byte character", "=?utf-8?B?" + b64(u[:1]) + "?= =?utf-8?B?" + b64(u[1:]) + "?=", "Überweisung"},
		{"language suffix", "=?utf-8*fr?Q?d=C3=A9j=C3=A0?=", "déjà"},
		{"gb2312 word", "=?gb2312?B?" + b64(encode(t, simplifiedchinese.GB18030, "打印机")) + "?=", "打印机"},
		{"iso-2022-jp word", "=?ISO-2022-JP?B?" + b64(encode(t, japanese.ISO2022JP, "自動応答")) + "?=", "自動応答"},
		{"unknown charset is detected", "=?x-unknown?q?caf=E9?=", "café"},
		{"broken base64 stays", "=?utf-8?B?@@@?=", "=?utf-8?B?@@@?="},
		{"raw utf-8", "Grüße", "Grüße"},
		{"raw latin-1", "Gr\xfc\xdfe aus K\xf6ln", "Grüße aus Köln"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeWords(tt.in); got != tt.want {
				t.Errorf("decodeWords(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
