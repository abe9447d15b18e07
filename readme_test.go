package main

import (
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/yandex-market-mcp/market-chat-mcp/config"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

var update = flag.Bool("update", false, "rewrite the generated parts of README.md")

const (
	toolsBegin = "<!-- tools:begin (generated from the declarations in tools/; go test . -update rewrites it) -->\n"
	toolsEnd   = "<!-- tools:end -->"
)

func TestReadmeToolReference(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	before, rest, ok := strings.Cut(readme, toolsBegin)
	current, after, ok2 := strings.Cut(rest, toolsEnd)
	if !ok || !ok2 {
		t.Fatal("README.md lacks the tool reference markers")
	}
	want := "\n" + tools.Markdown()
	if *update {
		if err := os.WriteFile("README.md", []byte(before+toolsBegin+want+toolsEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if current != want {
		t.Error("README.md's tool reference is out of date: run go test . -update")
	}
}

func TestReadmeNamesEveryVariable(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ct := reflect.TypeFor[config.Config]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		for _, name := range []string{strings.Split(f.Tag.Get("env"), ",")[0], f.Tag.Get("flag")} {
			if name != "" && !strings.Contains(string(raw), name) {
				t.Errorf("README.md does not mention %s", name)
			}
		}
	}
}
