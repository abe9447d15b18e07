// Command release makes, from a GoReleaser dist folder, what sellers install besides the
// archives: a Claude Desktop bundle (MCPB) for each system built, validated and packed by the
// mcpb command, and the MCP Registry's server.json, which names each bundle by its SHA-256.
//
//	go run github.com/goreleaser/goreleaser/v2@v2.15.1 release --clean
//	go run ./release dist
//
// Run it from the module's root. The bundles' manifest is derived from the declarations of the
// tools and settings into release/mcpb/manifest.json; go test ./release -update rewrites it.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/nodetools"
)

// Who and what is released; registryName is the MCP Registry's name, io.github.<owner>/<repo>
// after the module path.
const (
	project      = "market-chat-mcp"
	owner        = "yandex-market-mcp"
	repoURL      = "https://github.com/" + owner + "/" + project
	registryName = "io.github." + owner + "/" + project
	image        = "ghcr.io/" + owner + "/" + project
	description  = "Yandex Market buyer chats for sellers: read, wait for and answer them within the API's limits"
)

// Files of this folder the release reads, relative to the module's root.
const (
	manifestFile = "release/mcpb/manifest.json"
	launcherFile = "release/mcpb/launcher.sh"
	nodeDir      = "release/node"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./release <GoReleaser's dist folder>")
		os.Exit(2)
	}
	if err := release(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// release packs a bundle for each system dist holds binaries of and writes dist/server.json.
func release(dist string) error {
	d, err := readDist(dist)
	if err != nil {
		return err
	}
	var m Manifest
	if err := readJSON(manifestFile, &m); err != nil {
		return err
	}
	node, err := nodetools.Install(nodeDir)
	if err != nil {
		return err
	}
	mcpb, err := node.Command("@anthropic-ai/mcpb", "mcpb")
	if err != nil {
		return err
	}
	var bundles []bundle
	for _, p := range platforms {
		files, err := d.bundleFiles(p.goos)
		if err != nil {
			return err
		}
		if files == nil {
			continue // not built this time
		}
		dir := filepath.Join(dist, "mcpb-"+p.goos)
		if err := stage(dir, m.forPlatform(p.host, d.Version), files); err != nil {
			return err
		}
		b := bundle{goos: p.goos, path: filepath.Join(dist, bundleName(d.Version, p.goos))}
		for _, args := range [][]string{{"validate", filepath.Join(dir, "manifest.json")}, {"pack", dir, b.path}} {
			cmd := exec.Command(node.Node(), append([]string{mcpb}, args...)...)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("mcpb %s: %w", args[0], err)
			}
		}
		bundles = append(bundles, b)
	}
	if len(bundles) == 0 {
		return fmt.Errorf("%s holds no binaries for macOS, Linux or Windows", dist)
	}
	s, err := serverJSON(d.Version, bundles)
	if err != nil {
		return err
	}
	return writeJSON(filepath.Join(dist, "server.json"), s)
}

// dist is what GoReleaser's metadata.json and artifacts.json say it built.
type dist struct {
	Version   string
	artifacts []artifact
}

// artifact is an entry of artifacts.json.
type artifact struct {
	Type   string `json:"type"`
	Path   string `json:"path"` // relative to the folder GoReleaser ran in
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
}

func readDist(dir string) (*dist, error) {
	var meta struct {
		Version string `json:"version"`
	}
	if err := readJSON(filepath.Join(dir, "metadata.json"), &meta); err != nil {
		return nil, err
	}
	d := &dist{Version: meta.Version}
	if err := readJSON(filepath.Join(dir, "artifacts.json"), &d.artifacts); err != nil {
		return nil, err
	}
	return d, nil
}

// binary is the path of the binary built for goos and goarch ("all" for macOS's universal one),
// or "" when there is none.
func (d *dist) binary(goos, goarch string) string {
	for _, a := range d.artifacts {
		if a.Type == "Binary" && a.Goos == goos && a.Goarch == goarch {
			return a.Path
		}
	}
	return ""
}

// bundleFiles maps the paths inside goos's bundle to the files they come from; nil when dist
// has no binaries for goos, and an error when it has some but not all.
func (d *dist) bundleFiles(goos string) (map[string]string, error) {
	var want map[string][2]string // path in the bundle → the binary's goos and goarch
	switch goos {
	case "darwin":
		want = map[string][2]string{entry: {"darwin", "all"}}
	case "linux":
		want = map[string][2]string{"server/linux-amd64/" + project: {"linux", "amd64"}, "server/linux-arm64/" + project: {"linux", "arm64"}}
	case "windows":
		// Windows on arm64 runs the amd64 build; an override per architecture does not exist.
		want = map[string][2]string{entry + ".exe": {"windows", "amd64"}}
	}
	files := map[string]string{}
	for in, t := range want {
		if p := d.binary(t[0], t[1]); p != "" {
			files[in] = p
		}
	}
	switch {
	case len(files) == 0:
		return nil, nil
	case len(files) < len(want):
		return nil, fmt.Errorf("the %s bundle needs binaries for %v; dist has only %v", goos, want, files)
	}
	if goos == "linux" {
		files[entry] = launcherFile
	}
	return files, nil
}

// stage lays out a bundle's folder: its manifest and its files, the commands executable.
func stage(dir string, m *Manifest, files map[string]string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for in, from := range files {
		to := filepath.Join(dir, filepath.FromSlash(in))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := copyFile(to, from, 0o755); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, "manifest.json"), m)
}

// bundle is a packed .mcpb file.
type bundle struct{ goos, path string }

// bundleName is the release file of goos's bundle.
func bundleName(version, goos string) string {
	return fmt.Sprintf("%s_%s_%s.mcpb", project, version, goos)
}

// sha256File is the hex SHA-256 of the file at path.
func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func copyFile(to, from string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeJSON writes v indented, as the committed files are.
func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}
