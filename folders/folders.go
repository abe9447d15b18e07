// Package folders gives read access to the folders a seller allowed files to be sent from, and
// to nothing else.
//
// The folders are resolved and opened once, when the server starts, and every file is opened
// through the folder's open handle (os.Root): a path that leads out of its folder, by ".." or
// by a link, is refused, and so is a folder that someone replaces with a link later on. Only
// regular files are read, and what a path names is found out without blocking, so that a named
// pipe or a device cannot hang a call. Folders and files of the kernel's pseudo file systems
// (/proc, /sys), whose files look regular and may hold the process's secrets, are refused.
package folders

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Set is the allowed folders, opened. It is safe for concurrent use.
type Set struct {
	folders []folder
}

type folder struct {
	names []string // the folder as configured, made absolute, and with its links resolved
	root  *os.Root
}

// Open resolves and opens the folders. It refuses a folder that does not exist, is not a folder,
// or is or holds a pseudo file system. An empty list gives an empty Set, which reads nothing.
func Open(paths []string) (*Set, error) {
	s := &Set{}
	for _, p := range paths {
		f, err := openFolder(p)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("%q: %w", p, err)
		}
		s.folders = append(s.folders, f)
	}
	return s, nil
}

func openFolder(path string) (folder, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return folder{}, err
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return folder{}, unwrapPath(err)
	}
	if fi, err := os.Stat(resolved); err != nil {
		return folder{}, unwrapPath(err)
	} else if !fi.IsDir() {
		return folder{}, errors.New("not a folder")
	}
	if err := checkFolder(resolved); err != nil {
		return folder{}, err
	}
	root, err := os.OpenRoot(resolved)
	if err != nil {
		return folder{}, unwrapPath(err)
	}
	// The folder could have changed between the checks and the opening: check what was opened.
	if err := checkOpened(root); err != nil {
		root.Close()
		return folder{}, err
	}
	names := []string{abs}
	if resolved != abs {
		names = append(names, resolved)
	}
	return folder{names: names, root: root}, nil
}

// Empty reports whether no folder is allowed.
func (s *Set) Empty() bool { return len(s.folders) == 0 }

// Names lists the folders as configured.
func (s *Set) Names() []string {
	names := make([]string, len(s.folders))
	for i, f := range s.folders {
		names[i] = f.names[0]
	}
	return names
}

// Close closes the folders.
func (s *Set) Close() {
	for _, f := range s.folders {
		f.root.Close()
	}
}

// Read reads a regular file of at most maxSize bytes at path, absolute or relative to one of
// the folders, and returns its contents and its name. Its errors are sentences that name the
// path.
func (s *Set) Read(path string, maxSize int64) (data []byte, name string, err error) {
	for _, f := range s.folders {
		for _, root := range f.names {
			if rel, ok := inside(root, path); ok {
				data, err := read(f.root, rel, path, maxSize)
				return data, filepath.Base(rel), err
			}
		}
	}
	return nil, "", fmt.Errorf("path %q is outside the folders files may be sent from (%s)", path, strings.Join(s.Names(), ", "))
}

// inside returns path relative to root when it lies inside it, judging by the names alone; the
// folder's handle then decides where the name really leads.
func inside(root, path string) (string, bool) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	rel, err := filepath.Rel(root, filepath.Clean(path))
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

func read(root *os.Root, rel, path string, maxSize int64) ([]byte, error) {
	f, err := root.OpenFile(rel, openFlags, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("file %q does not exist", path)
		}
		return nil, fmt.Errorf("file %q cannot be read: %v", path, unwrapPath(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("file %q cannot be read: %v", path, unwrapPath(err))
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%q is not a regular file", path)
	}
	if err := checkFile(f); err != nil {
		return nil, fmt.Errorf("file %q cannot be sent: %v", path, err)
	}
	switch {
	case fi.Size() > maxSize:
		return nil, fmt.Errorf("file %q is %d bytes, over the %s limit for files", path, fi.Size(), size(maxSize))
	case fi.Size() == 0:
		return nil, fmt.Errorf("file %q is empty", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("file %q cannot be read: %v", path, err)
	case int64(len(data)) > maxSize:
		return nil, fmt.Errorf("file %q grew over the %s limit for files while being read", path, size(maxSize))
	}
	return data, nil
}

// size writes a limit in MB when it is whole megabytes.
func size(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d-byte", n)
}

// unwrapPath drops the operation and path that *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}
