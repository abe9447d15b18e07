package tools

import (
	"testing"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// TestDefinitionWithoutGeneratedSchemas checks a tool that schemas_gen.go does not hold yet, as
// one just added before go test ./tools -update: its schemas are reflected from its types.
func TestDefinitionWithoutGeneratedSchemas(t *testing.T) {
	def := (&Tool[ChatInput, Chat]{Name: "not_generated_yet", Op: market.OpGetChat}).Definition()
	want := generatedSchemas[getChat.Name] // the same types
	if string(def.RawInputSchema) != want.in || string(def.RawOutputSchema) != want.out {
		t.Errorf("reflected schemas\n%s\n%s\ndiffer from the generated ones of the same types\n%s\n%s",
			def.RawInputSchema, def.RawOutputSchema, want.in, want.out)
	}
}
