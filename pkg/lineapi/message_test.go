package lineapi_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
)

// A message decodes once into its typed fields: i64s as strings or
// numbers, metadata values as strings, chunks only when sealed; it keeps
// its JSON, owned (the input may be overwritten).
func TestParseMessage(t *testing.T) {
	in := []byte(`{"id":"605311889450205372","from":"u1","to":"c1","toType":2,"contentType":14,"createdTime":"1773625305497",
		"deliveredTime":1773625305498,"text":"caf\u00e9","contentMetadata":{"FILE_NAME":"r.csv","FILE_SIZE":"42","e2eeVersion":"2"},
		"chunks":["a","b"],"relatedMessageId":"m0","messageRelationType":3,"reactions":[]}`)
	m, err := lineapi.ParseMessage(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &lineapi.Message{ID: "605311889450205372", From: "u1", To: "c1", ToType: lineapi.ToGroup, ContentType: 14,
		Text: "café", ContentMetadata: map[string]string{"FILE_NAME": "r.csv", "FILE_SIZE": "42", "e2eeVersion": "2"},
		Chunks: []string{"a", "b"}, CreatedTime: 1773625305497, DeliveredTime: 1773625305498,
		RelatedMessageID: "m0", RelationType: lineapi.RelationReply, JSON: append([]byte(nil), in...)}
	for i := range in {
		in[i] = 'x'
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got  %+v\nwant %+v", m, want)
	}
	if !m.Sealed() || m.MetadataInt("FILE_SIZE") != 42 || m.MetadataInt("FILE_NAME") != 0 {
		t.Fatal("Sealed/MetadataInt")
	}
	if m, _ := lineapi.ParseMessage([]byte(`{"id":"1","text":"x","chunks":null}`)); m.Sealed() {
		t.Fatal("chunks null read as sealed")
	}
	for _, bad := range []string{``, `null`, `[]`, `"m"`, `{"id":`, strings.Repeat("[", 100) + strings.Repeat("]", 100)} {
		if _, err := lineapi.ParseMessage([]byte(bad)); !errors.Is(err, lineapi.ErrBadMessage) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// No exported identifier of pkg/lineapi exposes gjson: a received message
// is lineapi.Message, an operation's parameters stream.Param (issue 26).
func TestNoGjsonInExportedAPI(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			strings.Contains(path, "internal"+string(filepath.Separator)) {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		mentions := func(n ast.Node) bool {
			found := false
			ast.Inspect(n, func(n ast.Node) bool {
				if s, ok := n.(*ast.SelectorExpr); ok {
					if x, ok := s.X.(*ast.Ident); ok && x.Name == "gjson" {
						found = true
					}
				}
				return !found
			})
			return found
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() && (d.Recv == nil || exportedRecv(d.Recv)) && mentions(d.Type) {
					t.Errorf("%s: func %s exposes gjson", path, d.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						if st, ok := s.Type.(*ast.StructType); ok {
							for _, fl := range st.Fields.List {
								for _, n := range fl.Names {
									if n.IsExported() && mentions(fl.Type) {
										t.Errorf("%s: %s.%s exposes gjson", path, s.Name, n)
									}
								}
							}
						} else if mentions(s.Type) {
							t.Errorf("%s: type %s exposes gjson", path, s.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && s.Type != nil && mentions(s.Type) {
								t.Errorf("%s: %s exposes gjson", path, n)
							}
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func exportedRecv(r *ast.FieldList) bool {
	typ := r.List[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	if ix, ok := typ.(*ast.IndexExpr); ok {
		typ = ix.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}
