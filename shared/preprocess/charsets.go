package preprocess

import (
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode/utf32"

	"mailconnector/shared/lazyre"
)

// charsetAliases maps the labels mail clients write to the charset that
// decodes what they really send: supersets Windows and the WHATWG
// Encoding Standard use (ISO-8859-1 and US-ASCII mail holds windows-1252
// bytes, GB2312 mail holds GBK/GB18030), and misspellings seen in the
// wild ("win-1251", "cp-850", "utf8").
var charsetAliases = map[string]string{
	"us-ascii": "windows-1252", "ascii": "windows-1252", "ansi_x3.4-1968": "windows-1252",
	"iso646-us": "windows-1252", "us": "windows-1252", "iso-8859-1": "windows-1252",
	"iso8859-1": "windows-1252", "iso_8859-1": "windows-1252", "8859-1": "windows-1252",
	"latin1": "windows-1252", "latin-1": "windows-1252", "l1": "windows-1252", "cp819": "windows-1252",
	"iso-8859-15": "iso-8859-15", "latin9": "iso-8859-15",
	"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030",
	"gb_2312-80": "gb18030", "csgb2312": "gb18030", "chinese": "gb18030", "gb18030-2022": "gb18030",
	"ks_c_5601-1987": "euc-kr", "ks_c_5601": "euc-kr", "cp949": "euc-kr", "uhc": "euc-kr", "korean": "euc-kr",
	"iso-2022-jp-1": "iso-2022-jp", "iso-2022-jp-2": "iso-2022-jp", "iso-2022-jp-3": "iso-2022-jp",
	"csiso2022jp": "iso-2022-jp",
	"cp932":       "shift_jis", "ms932": "shift_jis", "windows-31j": "shift_jis", "x-sjis": "shift_jis",
	"sjis": "shift_jis", "shift-jis": "shift_jis", "x-shift_jis": "shift_jis",
	"x-euc-jp": "euc-jp", "eucjp": "euc-jp",
	"big5-hkscs": "big5", "cn-big5": "big5", "x-x-big5": "big5", "big-5": "big5", "cp950": "big5",
	"tis-620": "windows-874", "iso-8859-11": "windows-874", "cp874": "windows-874",
	"iso-8859-9": "windows-1254", "latin5": "windows-1254",
	"utf8": "utf-8", "utf-8": "utf-8", "x-utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
	"cp-850": "ibm850", "cp850": "ibm850", "cp-866": "ibm866", "cp866": "ibm866",
	"koi8r": "koi8-r", "koi8u": "koi8-u", "koi8": "koi8-r",
	"utf-32": "utf-32", "utf-32le": "utf-32le", "utf-32be": "utf-32be",
}

// winPattern matches "win-1251", "windows1251", "cp1251", "x-cp1251".
var winPattern = lazyre.New(`^(x-)?(win|windows|cp|ms)-?(125[0-8])$`)

// normalizeCharset cleans a charset label: lower case, no quotes or
// spaces, no RFC 2231 language suffix ("utf-8*en"), aliases resolved.
func normalizeCharset(cs string) string {
	cs = strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"' `))
	if i := strings.IndexByte(cs, '*'); i >= 0 {
		cs = cs[:i]
	}
	if a, ok := charsetAliases[cs]; ok {
		return a
	}
	if m := winPattern.FindStringSubmatch(cs); m != nil {
		return "windows-" + m[3]
	}
	return cs
}

// specialEncodings are decoders go-message/charset does not return for
// the label: GB18030 for every GB label (a superset), UTF-32.
var specialEncodings = map[string]encoding.Encoding{
	"gb18030":  simplifiedchinese.GB18030,
	"utf-32":   utf32.UTF32(utf32.BigEndian, utf32.UseBOM),
	"utf-32be": utf32.UTF32(utf32.BigEndian, utf32.UseBOM),
	"utf-32le": utf32.UTF32(utf32.LittleEndian, utf32.UseBOM),
}

// knownCharset reports whether a normalized label can be decoded.
func knownCharset(cs string) bool {
	if _, ok := specialEncodings[cs]; ok {
		return true
	}
	_, err := charset.Reader(cs, strings.NewReader(""))
	return err == nil
}

// decodeWith converts raw bytes with a known, normalized charset; ok is
// false if the charset is unknown or the decoder failed part way.
func decodeWith(raw []byte, cs string) (string, bool) {
	var r io.Reader
	if enc, ok := specialEncodings[cs]; ok {
		r = enc.NewDecoder().Reader(bytes.NewReader(raw))
	} else {
		var err error
		if r, err = charset.Reader(cs, bytes.NewReader(raw)); err != nil {
			return "", false
		}
	}
	out, err := io.ReadAll(r)
	return strings.ToValidUTF8(string(out), "\uFFFD"), err == nil
}

// detectCandidates are the charsets detection chooses among, in order of
// preference on a tie.
var detectCandidates = []struct {
	name string
	enc  encoding.Encoding
}{
	{"windows-1252", charmap.Windows1252},
	{"windows-1251", charmap.Windows1251},
	{"koi8-r", charmap.KOI8R},
	{"windows-1250", charmap.Windows1250},
	{"shift_jis", japanese.ShiftJIS},
	{"euc-jp", japanese.EUCJP},
	{"gb18030", simplifiedchinese.GB18030},
	{"big5", traditionalchinese.Big5},
	{"euc-kr", korean.EUCKR},
}

// detectCharset guesses the charset of bytes with a missing or wrong
// label: UTF-8 if they are valid UTF-8, ISO-2022-JP if they hold its
// escape sequences, UTF-16 with a byte order mark, else the candidate
// whose decoding looks most like text (letters of one script, frequent
// CJK characters, few symbols, no undecodable bytes).
func detectCharset(raw []byte) string {
	switch {
	case bytes.Contains(raw, []byte("\x1b$B")) || bytes.Contains(raw, []byte("\x1b$@")) || bytes.Contains(raw, []byte("\x1b(J")):
		return "iso-2022-jp"
	case utf8.Valid(raw):
		return "utf-8"
	case bytes.HasPrefix(raw, []byte{0xFE, 0xFF}) || bytes.HasPrefix(raw, []byte{0xFF, 0xFE}):
		return "utf-16"
	}
	sample := raw
	if len(sample) > 64<<10 {
		sample = sample[:64<<10]
	}
	best, bestScore := "windows-1252", -1e18
	for _, c := range detectCandidates {
		out, err := c.enc.NewDecoder().Bytes(sample)
		if err != nil {
			continue
		}
		if s := textScore(string(out)); s > bestScore {
			best, bestScore = c.name, s
		}
	}
	return best
}

// frequentCJK are among the most frequent characters of Chinese and
// Japanese text; a right decoding hits them often, a wrong one rarely.
const frequentCJK = "的一是不了在人有我他这個个们們中来來上大为為和国國地到以说說时時要就出会會可也你对對生能而子那得于着下自之年过過发發后後作里用道行所然家种事成方多经經么去法学學如都同现現当當没沒动動面起看定天分还還进進好小部其些主样理心本前开但因只从想实日者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应向头文体政相见被利什二等产或新己制身果加月话合回特代内信表化老给世位次度门任常先海通教儿原东提立及比员解水名真论处走义各入几口认条平系气题活更别打变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直资命山金指许统区保至队形社便空决治展马科司五基书非则听白却界达光放强即像难且权思王象完设式色路记品住告类求据程北边该交规万取拉格望觉术领共确传师观清今切院让识候带导争运改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具字爱击流备连调深商算质团集百需价花党华城石级整府离况请技际约示复病息究线似官火断精满支视消越器容照须增研写称企功吗包片史委乎查轻易早除农找装广显吧标谈吃图念引历首医局突专费号尽另周较注语仅考落青随选列红响虽推势参希古众构房半节土投某案黑维划致律足态护兴派孩验责营星够章音跟志底站严例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害双境客纪采举父密低朝友诉止细愿千值仍男钱破网热助倒育属坐限船职速刻乐否刚威毛状率甚独球般普怕校苦创假久错承印晚试股拿脑预谁益阳若哪微继送急血素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村策演简卡判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善读超免压银买养怀执副乱抗犯追帮宣岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索款靠评版宝座释景顾弟登货互付慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括杂误湾吉减编楚测败屋跑梦散温困封救贵缺楼县尚毫移画班智亦耳恩短掌恐遗固席松秘谢遇康虑幸均销钟诗藏赶票损忽巨旧端探湖录叶春乡附吸予礼港雨板庭归饭额含顺输招婚脱补谓督油疗旅材莫笔亡词择寻厂睡博烟授诺伦岸唐卖载健堂旁宫喝借君禁阴园谋避抓荣姑孙逃牙束跳顶玉镇雪午练迫篇肉馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻森塔默握戏隐熟骨访弱歌店软典欲伙遭盘扩盖弄雄稳忘亿刺拥徒杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休扬途刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱抱鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵邮件附请问谢您题请們這來為說時會對後過發學經現當沒動還進關點業將兩間問應頭體產與長機兒東員題電報個號謝請郵"

var frequentSet = func() map[rune]bool {
	m := map[rune]bool{}
	for _, r := range frequentCJK {
		m[r] = true
	}
	return m
}()

// textScore rates how much a decoding looks like natural text.
func textScore(s string) float64 {
	score := 0.0
	// The script of the previous letter: a word mixing Latin and
	// Cyrillic letters is a wrong decoding.
	const (
		none = iota
		latin
		cyrillic
	)
	prevScript, prevAccented, prevCyrLower := none, false, false
	for _, r := range s {
		script, accented, cyrLower := none, false, false
		switch {
		case r < 0x80:
			switch {
			case r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != 0x1b:
				score -= 5
			case 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z':
				script = latin
				if prevScript == cyrillic {
					score -= 2
				}
			}
		case r == utf8.RuneError:
			score -= 10
		case r >= 0x80 && r < 0xA0, unicode.Is(unicode.Co, r), !unicode.IsPrint(r) && !unicode.IsSpace(r):
			score -= 5
		case r >= 0xFF61 && r <= 0xFF9F:
			score-- // half-width katakana: single bytes read as Shift_JIS
		case frequentSet[r]:
			score += 3
		case unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
			score += 3
		case unicode.Is(unicode.Han, r):
			score += 0.3
		case unicode.Is(unicode.Hangul, r):
			score += 1.5
		case unicode.Is(unicode.Cyrillic, r):
			script = cyrillic
			switch {
			case prevScript == latin:
				score -= 2
			case unicode.IsLower(r):
				score++
				cyrLower = true
			case prevCyrLower:
				score-- // an upper-case letter inside a word
			default:
				score += 0.2
			}
		case unicode.IsLetter(r) && r < 0x250:
			script, accented = latin, true
			if !prevAccented {
				score++
			}
		case unicode.IsLetter(r):
			score += 0.2
		case r == '–' || r == '—' || r == '„' || r == '“' || r == '”' || r == '‘' || r == '’' || r == '«' || r == '»' || r == '…' || r == '€' || r == '、' || r == '。' || r == '，' || r == '：':
			score += 0.5
		case unicode.IsSpace(r):
		default:
			score-- // symbols: ¤¦§¨©¬®¯°±²³´µ¶·¸¹º¼½¾¿, box drawing
		}
		prevScript, prevAccented, prevCyrLower = script, accented, cyrLower
	}
	return score
}

// decodeCharset converts raw bytes in the named charset to UTF-8; an
// unknown, empty or wrong label falls back to detection.
func decodeCharset(raw []byte, cs string) string {
	s, _ := toUTF8(raw, cs)
	return s
}

// toUTF8 converts bytes labelled cs to UTF-8. note is "" when the label
// was right, else says what was done instead ("unknown charset …").
func toUTF8(raw []byte, label string) (string, string) {
	cs := normalizeCharset(label)
	// ISO-2022-JP is 7-bit: labelled ASCII or not at all, it still is
	// Japanese (RFC 1468).
	if cs != "iso-2022-jp" && (cs == "" || cs == "utf-8" || cs == "windows-1252") && isASCII(raw) && detectCharset(raw) == "iso-2022-jp" {
		s, _ := decodeWith(raw, "iso-2022-jp")
		if label == "" {
			return s, "no charset declared: detected iso-2022-jp"
		}
		return s, "labelled " + label + " but the bytes are iso-2022-jp: detected iso-2022-jp"
	}
	switch cs {
	case "":
		if utf8.Valid(raw) {
			return string(raw), ""
		}
		d := detectCharset(raw)
		s, _ := decodeWith(raw, d)
		return s, "no charset declared and not UTF-8: detected " + d
	case "utf-8":
		if utf8.Valid(raw) {
			return string(raw), ""
		}
		d := detectCharset(raw)
		s, _ := decodeWith(raw, d)
		return s, "bytes are not valid " + label + ": detected " + d
	}
	if !knownCharset(cs) {
		d := detectCharset(raw)
		s, _ := decodeWith(raw, d)
		return s, "unknown charset \"" + label + "\": detected " + d
	}
	// A UTF-16 label on bytes that cannot be UTF-16 (RFC 2781 section 4):
	// without a byte order mark, UTF-16 text has an even length and, as
	// soon as it holds ASCII (spaces, line ends), NUL bytes.
	if isUTF16(cs) && !couldBeUTF16(raw) {
		d := detectCharset(raw)
		s, _ := decodeWith(raw, d)
		return s, "labelled " + label + " but the bytes cannot be " + cs + " (no byte order mark, odd length or no NUL bytes): read as " + d
	}
	// A single-byte label on multi-byte UTF-8 text is a common mistake of
	// webmailers and scripts.
	if isSingleByte(cs) && !isASCII(raw) && utf8.Valid(raw) && looksUTF8(raw) {
		return string(raw), "labelled " + label + " but the bytes are UTF-8: read as UTF-8"
	}
	s, ok := decodeWith(raw, cs)
	bad := strings.Count(s, "\uFFFD")
	if !ok || bad > 0 && bad*50 > utf8.RuneCountInString(s) {
		d := detectCharset(raw)
		if d != cs {
			if ds, ok := decodeWith(raw, d); ok && strings.Count(ds, "\uFFFD") < bad {
				return ds, "bytes are not valid " + label + ": detected " + d
			}
		}
		return s, "cannot decode all bytes as " + label + ": undecodable bytes replaced"
	}
	return s, ""
}

func isSingleByte(cs string) bool {
	return strings.HasPrefix(cs, "windows-125") || strings.HasPrefix(cs, "iso-8859-") || strings.HasPrefix(cs, "koi8") ||
		strings.HasPrefix(cs, "ibm") || cs == "macintosh" || cs == "x-mac-roman"
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// looksUTF8 reports whether valid UTF-8 bytes hold multi-byte sequences
// (in a single-byte charset such pairs, like "Ã©", are rare).
func looksUTF8(b []byte) bool {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if size > 1 && r != utf8.RuneError {
			n++
			if n >= 2 {
				return true
			}
		}
		b = b[size:]
	}
	return n > 0
}

// decodeFallback reads bytes that are not valid UTF-8 in the charset
// detection finds.
func decodeFallback(raw []byte) string {
	d := detectCharset(raw)
	if d == "utf-8" {
		return string(raw)
	}
	s, _ := decodeWith(raw, d)
	return s
}

func isUTF16(cs string) bool {
	return cs == "utf-16" || cs == "utf-16le" || cs == "utf-16be" || cs == "ucs-2" || cs == "unicode"
}

// couldBeUTF16 reports whether raw can be UTF-16 text: it starts with a
// byte order mark, or it has an even length and holds NUL bytes.
func couldBeUTF16(raw []byte) bool {
	if bytes.HasPrefix(raw, []byte{0xFE, 0xFF}) || bytes.HasPrefix(raw, []byte{0xFF, 0xFE}) {
		return true
	}
	return len(raw)%2 == 0 && bytes.IndexByte(raw, 0) >= 0
}
