// Package untrusted makes text from outside safe to show: what buyers write reaches a language
// model, and names the seller's assistant gives to files reach buyers. Both must read as they
// look, with nothing invisible in them.
package untrusted

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean removes from text that buyers wrote what a reader cannot see but a model would read:
// control characters other than newline and tab, format characters (zero-width spaces and
// joiners, bidirectional overrides and isolates, the byte order mark, soft hyphens, tag
// characters) and the blank "filler" letters. Line and paragraph separators become newlines.
func Clean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return Hidden(r) || r == '\u2028' || r == '\u2029' }) < 0 {
		return s // one pass for the common case: nothing to remove or replace ('\r' is hidden)
	}
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n").Replace(s)
	return strings.Map(func(r rune) rune {
		if Hidden(r) {
			return -1
		}
		return r
	}, s)
}

// Hidden reports whether r is invisible in text.
func Hidden(r rune) bool {
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

// MaxFileNameLength is the longest file name, in characters, that most file systems keep.
const MaxFileNameLength = 255

// CheckFileName reports why name cannot be shown to a buyer as the name of a file, or nil. A name
// is a bare file name (no folders, not "." or ".."), not blank, at most MaxFileNameLength
// characters, without spaces at either end, and with nothing a reader cannot see: no line
// breaks, tabs or other controls, and no invisible or direction-changing characters, which would
// let "invoice\u202efdp.exe" read as "invoiceexe.pdf".
func CheckFileName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("must not be blank")
	case name == "." || name == "..":
		return errors.New(`must be a file name, not "." or ".."`)
	case strings.ContainsAny(name, `/\`):
		return errors.New("must be a bare file name, without folders")
	case !utf8.ValidString(name):
		return errors.New("must be valid UTF-8")
	case utf8.RuneCountInString(name) > MaxFileNameLength:
		return fmt.Errorf("must be at most %d characters long", MaxFileNameLength)
	case strings.TrimSpace(name) != name:
		return errors.New("must not begin or end with a space")
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return Hidden(r) || unicode.IsSpace(r) && r != ' ' }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return fmt.Errorf("must not contain line breaks, control characters or invisible and direction-changing characters such as %U", r)
	}
	return nil
}
