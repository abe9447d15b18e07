package tools

import (
	"strings"
	"unicode"
)

// clean removes from text that buyers wrote what a reader cannot see but a model would read:
// control characters other than newline and tab, format characters (zero-width spaces and
// joiners, bidirectional overrides and isolates, the byte order mark, soft hyphens, tag
// characters) and the blank "filler" letters. Line and paragraph separators become newlines.
func clean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return hidden(r) || r == '\u2028' || r == '\u2029' }) < 0 {
		return s // one pass for the common case: nothing to remove or replace ('\r' is hidden)
	}
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n").Replace(s)
	return strings.Map(func(r rune) rune {
		if hidden(r) {
			return -1
		}
		return r
	}, s)
}

// hidden reports whether r is invisible in text.
func hidden(r rune) bool {
	switch r {
	case '\n', '\t':
		return false
	case '\u115f', '\u1160', '\u3164', '\uffa0', '\u034f', '\u180e': // fillers and invisible joiners that are letters or marks
		return true
	}
	// Most text (Latin, Greek, Cyrillic) is decided here without the tables: below U+0600 the
	// only code points of Cc, Cf or Co are the controls and the soft hyphen, as
	// TestHiddenWithoutTables checks.
	if r >= ' ' && r < 0x7f || r >= 0xa0 && r < 0x600 {
		return r == '\u00ad'
	}
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) ||
		(r >= '\ufe00' && r <= '\ufe0e') || (r >= 0xe0100 && r <= 0xe01ef) // variation selectors, but not the emoji one (U+FE0F)
}
