package cmd

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// TestGoldenLinesMatchSchema checks every golden line against
// docs/schema/lines.schema.json: its type is defined, required fields are
// present, no field is undeclared, and each value has the declared JSON type.
func TestGoldenLinesMatchSchema(t *testing.T) {
	b, err := os.ReadFile("../docs/schema/lines.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Type  string `json:"type"`
				Const string `json:"const"`
				Enum  []any  `json:"enum"`
			} `json:"properties"`
			Required []string `json:"required"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/lines.golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		typ, _ := line["type"].(string)
		def, ok := schema.Defs[typ]
		if !ok {
			t.Fatalf("line type %q is not in the schema", typ)
		}
		seen[typ] = true
		for _, r := range def.Required {
			if _, ok := line[r]; !ok {
				t.Errorf("%s: required field %q missing", typ, r)
			}
		}
		for k, v := range line {
			p, ok := def.Properties[k]
			if !ok {
				t.Errorf("%s: field %q is not in the schema", typ, k)
				continue
			}
			if p.Type != "" && !jsonTypeIs(v, p.Type) {
				t.Errorf("%s.%s: %T is not a JSON %s", typ, k, v, p.Type)
			}
		}
	}
	for typ := range schema.Defs {
		if !seen[typ] {
			t.Errorf("schema type %q has no golden line", typ)
		}
	}
}

func jsonTypeIs(v any, typ string) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "number":
		_, ok := v.(float64)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	}
	return true
}
