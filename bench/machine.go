package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// moduleRoot is the folder of the module's go.mod, wherever in the module the command runs.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run the benchmark inside the module (go run ./bench from its root)")
	}
	return filepath.Dir(gomod), nil
}

// packageVersion is the version in an npm package's package.json.
func packageVersion(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", err
	}
	var manifest struct {
		Version string `json:"version"`
	}
	err = json.Unmarshal(raw, &manifest)
	return manifest.Version, err
}

// cpuModel names the processor, from /proc/cpuinfo.
func cpuModel() string {
	return procField("/proc/cpuinfo", "model name", "an unknown processor")
}

// memTotal is the machine's memory, from /proc/meminfo.
func memTotal() string {
	var kb int64
	if _, err := fmt.Sscanf(procField("/proc/meminfo", "MemTotal", ""), "%d kB", &kb); err != nil {
		return "an unknown amount"
	}
	return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
}

// kernel is the kernel's release.
func kernel() string {
	raw, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "(unknown release)"
	}
	return string(bytes.TrimSpace(raw))
}

// procField returns the value of the first "name: value" line of a /proc file, or def.
func procField(path, name, def string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	for line := range strings.Lines(string(raw)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return def
}
