package folders

import (
	"os"
	"strings"
	"testing"
)

// TestPseudoFileSystemsAreRefused: /proc/self/environ looks like a regular file of size 0 and
// holds every secret of the environment. Neither a folder that reaches it nor the file itself
// may be read, wherever such a file system is mounted.
func TestPseudoFileSystemsAreRefused(t *testing.T) {
	for path, want := range map[string]string{
		"/":           "holds /proc",
		"/proc":       "holds /proc",
		"/proc/self":  "pseudo file system",
		"/sys/kernel": "pseudo file system",
	} {
		if s, err := Open([]string{path}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error with %q", path, err, want)
			if err == nil {
				s.Close()
			}
		}
	}
	f, err := os.Open("/proc/self/environ")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := checkFile(f); err == nil || !strings.Contains(err.Error(), "proc") {
		t.Errorf("checkFile(/proc/self/environ) = %v", err)
	}
}
