// Package nodetools provides Node 22 and the npm packages of a package-lock.json to the programs
// of this module that run JavaScript: the interop tests and the benchmark's peer server.
//
// Install puts them into the user's cache folder, once per version of the lock, so that a machine
// with Go and npm (Node 20 is enough to run the install) needs nothing else.
package nodetools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Tools is a folder whose node_modules holds Node 22 and the packages of a package.json.
type Tools struct{ dir string }

// Node is the Node 22 binary that the npm package "node" ships.
func (t *Tools) Node() string {
	if runtime.GOOS == "windows" {
		return filepath.Join(t.dir, "node_modules", "node", "bin", "node.exe")
	}
	return filepath.Join(t.dir, "node_modules", "node", "bin", "node")
}

// PackageDir is where the npm package name is installed.
func (t *Tools) PackageDir(name string) string {
	return filepath.Join(t.dir, "node_modules", filepath.FromSlash(name))
}

// Command is the script of the npm package pkg's command name, found the way npm finds it; run it
// with Node.
func (t *Tools) Command(pkg, name string) (string, error) {
	dir := t.PackageDir(pkg)
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", err
	}
	var manifest struct {
		Bin json.RawMessage `json:"bin"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return "", err
	}
	// "bin" is either one path, named after the package, or a map from command names to paths.
	var one string
	if json.Unmarshal(manifest.Bin, &one) == nil {
		return filepath.Join(dir, filepath.FromSlash(one)), nil
	}
	var many map[string]string
	if err := json.Unmarshal(manifest.Bin, &many); err != nil || many[name] == "" {
		return "", fmt.Errorf("no %s command in %s (bin: %s)", name, dir, manifest.Bin)
	}
	return filepath.Join(dir, filepath.FromSlash(many[name])), nil
}

// Link makes the packages importable by name from scripts in dir: Node resolves a bare import
// from a node_modules beside the script, so dir gets a link to the installed one.
func (t *Tools) Link(dir string) error {
	return os.Symlink(filepath.Join(t.dir, "node_modules"), filepath.Join(dir, "node_modules"))
}

// check makes sure the folder holds a Node 22 that runs.
func (t *Tools) check() error {
	out, err := exec.Command(t.Node(), "--version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("running %s: %v\n%s", t.Node(), err, out)
	}
	if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, "v22.") {
		return fmt.Errorf("%s is %s, not Node 22", t.Node(), v)
	}
	return nil
}

// Install installs the package.json and package-lock.json of manifestDir, which must pin the
// npm package "node" at version 22, into the user's cache folder unless an earlier run has, and
// returns the install. The folder is named after manifestDir and a hash of both files.
//
// Processes may install at the same time (go test runs packages in parallel, and so do CI jobs
// sharing a cache), so each installs into a folder of its own and renames it into place: the one
// that comes second drops its copy and uses the first.
func Install(manifestDir string) (*Tools, error) {
	abs, err := filepath.Abs(manifestDir)
	if err != nil {
		return nil, err
	}
	manifest, err := os.ReadFile(filepath.Join(abs, "package.json"))
	if err != nil {
		return nil, err
	}
	lock, err := os.ReadFile(filepath.Join(abs, "package-lock.json"))
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d\n%s%d\n%s", len(manifest), manifest, len(lock), lock)
	root, err := os.UserCacheDir()
	if err != nil {
		root = os.TempDir()
	}
	parent := filepath.Join(root, "market-chat-mcp")
	final := &Tools{dir: filepath.Join(parent, filepath.Base(abs)+"-"+hex.EncodeToString(h.Sum(nil))[:16])}
	if _, err := os.Stat(final.dir); err == nil {
		if err := final.check(); err != nil {
			return nil, fmt.Errorf("%v\nthe cached install looks broken: delete %s and try again", err, final.dir)
		}
		return final, nil
	}

	npm, err := exec.LookPath("npm")
	if err != nil {
		return nil, fmt.Errorf("npm is not on PATH: Node 22 and the npm packages of %s are installed with it; "+
			"install Node.js 20 or newer with npm (on Debian: apt-get install nodejs npm)", filepath.Join(abs, "package.json"))
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	removeAbandoned(parent)
	tmp, err := os.MkdirTemp(parent, ".installing-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // nothing is left there after a successful rename
	for name, data := range map[string][]byte{"package.json": manifest, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// The package "node" fetches its platform's binary in a preinstall script, so scripts must run
	// even where a user's npm config turns them off.
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts=false")
	cmd.Dir = tmp
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("npm ci of %s: %v\n%s", filepath.Join(abs, "package-lock.json"), err, out)
	}
	if err := (&Tools{dir: tmp}).check(); err != nil {
		return nil, fmt.Errorf("%v\nnpm ci said:\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "nodetools: installed Node 22 and the packages of %s into %s in %s\n",
		filepath.Join(abs, "package-lock.json"), final.dir, time.Since(start).Round(time.Second))
	if err := os.Rename(tmp, final.dir); err != nil {
		if _, statErr := os.Stat(final.dir); statErr != nil {
			return nil, err
		}
	}
	return final, final.check()
}

// removeAbandoned deletes installs that a killed process left half done.
func removeAbandoned(parent string) {
	old, _ := filepath.Glob(filepath.Join(parent, ".installing-*"))
	for _, dir := range old {
		if info, err := os.Stat(dir); err == nil && time.Since(info.ModTime()) > time.Hour {
			os.RemoveAll(dir)
		}
	}
}
