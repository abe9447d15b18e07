//go:build unix

package folders

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const maxSize = 5 << 20

func write(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

func TestRead(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "фото.jpg"), []byte("jpeg"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sub", "счёт.pdf"), []byte("%PDF"), 0o600); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(outside, "secret.txt"), 10)
	write(t, filepath.Join(root, "big.bin"), maxSize+1)
	write(t, filepath.Join(root, "empty.txt"), 0)
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/счёт.pdf", filepath.Join(root, "inner-link.pdf")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	for path, want := range map[string]string{
		"фото.jpg":                      "jpeg",
		filepath.Join(root, "фото.jpg"): "jpeg",
		"sub/счёт.pdf":                  "%PDF",
		"sub/../фото.jpg":               "jpeg",
		"inner-link.pdf":                "%PDF",
	} {
		data, name, err := s.Read(path, maxSize)
		if err != nil || string(data) != want || name != filepath.Base(filepath.Clean(path)) {
			t.Errorf("Read(%q) = %q, %q, %v", path, data, name, err)
		}
	}
	for path, want := range map[string]string{
		filepath.Join(outside, "secret.txt"):           "is outside the folders",
		"../" + filepath.Base(outside) + "/secret.txt": "is outside the folders",
		".":           "is outside the folders",
		"link.txt":    "cannot be read",
		"big.bin":     "over the 5 MB limit",
		"empty.txt":   "is empty",
		"sub":         "is not a regular file",
		"missing.txt": "does not exist",
		"pipe":        "is not a regular file",
	} {
		start := time.Now()
		_, _, err := s.Read(path, maxSize)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Read(%q) = %v, want an error with %q", path, err, want)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("Read(%q) blocked for %v", path, time.Since(start))
		}
	}
}

// TestFolderReplacedLater: a folder replaced by a link after the start (by someone who can write
// its parent) does not lead the reads elsewhere: they keep to the folder that was opened.
func TestFolderReplacedLater(t *testing.T) {
	parent, elsewhere := t.TempDir(), t.TempDir()
	dir := filepath.Join(parent, "files")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.txt"), []byte("ok"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(elsewhere, "passwd"), []byte("root:x:0:0"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, dir); err != nil {
		t.Fatal(err)
	}
	if data, _, err := s.Read(filepath.Join(dir, "passwd"), maxSize); err == nil {
		t.Errorf("read %q through the replaced folder", data)
	}
	if data, _, err := s.Read("ok.txt", maxSize); err != nil || string(data) != "ok" {
		t.Errorf("Read(ok.txt) = %q, %v", data, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	write(t, file, 1)
	for path, want := range map[string]string{
		"/does/not/exist": "no such file",
		file:              "not a folder",
	} {
		if _, err := Open([]string{path}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error with %q", path, err, want)
		}
	}
}
