//go:build interop

package interop

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// conformanceScenarios are the suite's scenarios that apply to a server of tools only; the others
// are in conformance.md with the reason.
var conformanceScenarios = []string{
	"server-initialize",
	"ping",
	"logging-set-level",
	"tools-list",
	"server-sse-multiple-streams",
	"dns-rebinding-protection",
}

// check is one entry of a scenario's checks.json.
type check struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	Description  string `json:"description"`
	ErrorMessage string `json:"errorMessage"`
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func TestConformance(t *testing.T) {
	tools := need(t)
	cli, err := tools.Command("@modelcontextprotocol/conformance", "conformance")
	if err != nil {
		t.Fatal(err)
	}
	conformance := func(ctx context.Context, args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, tools.Node(), append([]string{cli}, args...)...)
	}

	t.Run("every scenario is run or explained", func(t *testing.T) {
		t.Parallel()
		out, err := conformance(t.Context(), "list", "--server").CombinedOutput()
		if err != nil {
			t.Fatalf("conformance list: %v\n%s", err, out)
		}
		var listed []string
		for _, m := range regexp.MustCompile(`(?m)^\s*-\s+(\S+)`).FindAllStringSubmatch(string(out), -1) {
			listed = append(listed, m[1])
		}
		if len(listed) == 0 {
			t.Fatalf("conformance list printed no scenario:\n%s", out)
		}
		notApplying := notApplyingScenarios(t)
		for _, s := range listed {
			if !slices.Contains(conformanceScenarios, s) && !slices.Contains(notApplying, s) {
				t.Errorf("the suite has the scenario %s: run it in TestConformance, or say in conformance.md why it does not apply", s)
			}
		}
		for _, s := range append(slices.Clone(conformanceScenarios), notApplying...) {
			if !slices.Contains(listed, s) {
				t.Errorf("the suite no longer has the scenario %s: drop it from TestConformance or conformance.md", s)
			}
		}
		for _, s := range conformanceScenarios {
			if slices.Contains(notApplying, s) {
				t.Errorf("%s is both run and said not to apply", s)
			}
		}
	})

	url := startHTTP(t) + "/mcp"
	for _, scenario := range conformanceScenarios {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			out, err := conformance(ctx, "server", "--url", url, "--scenario", scenario, "-o", dir).CombinedOutput()
			if err != nil {
				t.Errorf("conformance server --scenario %s: %v\n%s", scenario, err, ansi.ReplaceAllString(string(out), ""))
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*", "checks.json"))
			if len(files) != 1 {
				t.Fatalf("want one checks.json in %s, found %v", dir, files)
			}
			raw, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			var checks []check
			if err := json.Unmarshal(raw, &checks); err != nil {
				t.Fatalf("%s: %v", files[0], err)
			}
			passed, failed := 0, 0
			for _, c := range checks {
				switch c.Status {
				case "SUCCESS":
					passed++
				case "FAILURE":
					failed++
					t.Errorf("%s: %s: %s", c.ID, c.Description, c.ErrorMessage)
				case "WARNING":
					t.Logf("warning: %s: %s: %s", c.ID, c.Description, c.ErrorMessage)
				}
			}
			// An empty or all-INFO result would otherwise pass without proving anything.
			if passed == 0 && failed == 0 {
				t.Errorf("no check passed:\n%s", raw)
			}
		})
	}

	// The suite cannot send a header (see conformance.md), so the token is checked by hand.
	t.Run("bearer token", func(t *testing.T) {
		t.Parallel()
		const token = "interop-conformance-3d81f0"
		url := startHTTP(t, "MCP_AUTH_TOKEN="+token) + "/mcp"
		initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"interop","version":"0"}}}`
		for _, c := range []struct {
			name, auth string
			status     int
		}{
			{"without a token", "", http.StatusUnauthorized},
			{"with a wrong token", "Bearer wrong", http.StatusUnauthorized},
			{"with the token", "Bearer " + token, http.StatusOK},
		} {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(initialize))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("initialize %s: %d %s, want %d", c.name, resp.StatusCode, body, c.status)
			}
			if c.status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("initialize %s: WWW-Authenticate %q, want a Bearer challenge", c.name, resp.Header.Get("WWW-Authenticate"))
			}
			if c.status == http.StatusOK && !strings.Contains(string(body), `"protocolVersion"`) {
				t.Errorf("initialize %s answered %s", c.name, body)
			}
		}
	})
}

// notApplyingScenarios reads the scenarios that conformance.md's table says do not apply.
func notApplyingScenarios(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("conformance.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile("(?m)^\\|\\s*`([a-z0-9-]+)`\\s*\\|").FindAllStringSubmatch(string(raw), -1) {
		names = append(names, m[1])
	}
	if len(names) == 0 {
		t.Fatal("conformance.md lists no scenario")
	}
	return names
}
