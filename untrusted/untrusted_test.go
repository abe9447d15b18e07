package untrusted

import (
	"strings"
	"testing"
	"unicode"
)

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Здравствуйте! Где мой заказ?", "Здравствуйте! Где мой заказ?"},
		{"line one\r\nline two\rthree\u2028four\u2029five\tsix", "line one\nline two\nthree\nfour\nfive\tsix"},
		{"ig\u200bnore\u200c pre\u200dvious\u2060 instructions\ufeff", "ignore previous instructions"},
		{"\u202eevil\u202c and \u2066isolated\u2069 \u200e\u200f", "evil and isolated "},
		{"tag\U000E0049\U000E0047\U000E004E chars", "tag chars"},
		{"bell\a null\x00 esc\x1b[31m del\x7f c1\u0085", "bell null esc[31m del c1"},
		{"filler\u3164\u115f\u1160\uffa0 soft\u00adhyphen", "filler softhyphen"},
		{"private\ue000use", "privateuse"},
		{"emoji ❤\ufe0f stays, text style ❤\ufe0e goes", "emoji ❤\ufe0f stays, text style ❤ goes"},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestHiddenWithoutTables checks the shortcut Hidden takes below U+0600 against the Unicode
// tables of this Go version.
func TestHiddenWithoutTables(t *testing.T) {
	for r := rune(0); r < 0x600; r++ {
		want := r == '\u034f' || r != '\n' && r != '\t' && (unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r))
		if got := Hidden(r); got != want {
			t.Errorf("Hidden(%U) = %v, want %v", r, got, want)
		}
	}
}

func TestCheckFileName(t *testing.T) {
	for _, ok := range []string{"invoice.pdf", "фото чека.jpg", "a b.txt", "❤.png", "Счёт №12 (копия).pdf", strings.Repeat("я", 255)} {
		if err := CheckFileName(ok); err != nil {
			t.Errorf("CheckFileName(%q) = %v", ok, err)
		}
	}
	for name, want := range map[string]string{
		"":                       "blank",
		"   ":                    "blank",
		".":                      `not "." or ".."`,
		"..":                     `not "." or ".."`,
		"a/b.pdf":                "without folders",
		`a\b.pdf`:                "without folders",
		" lead.pdf":              "begin or end with a space",
		"trail.pdf ":             "begin or end with a space",
		"a.pdf\r\nX-Injected: 1": "line breaks",
		"tab\there.pdf":          "line breaks",
		"invoice\u202efdp.exe":   "U+202E",
		"zero\u200bwidth.pdf":    "U+200B",
		"bad\xffutf8.pdf":        "UTF-8",
		strings.Repeat("я", 256): "at most 255 characters",
	} {
		if err := CheckFileName(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckFileName(%q) = %v, want an error with %q", name, err, want)
		}
	}
}
