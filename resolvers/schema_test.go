package resolvers_test

import (
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/graph"
)

// TestSchemaDescribed checks that every type, field, argument, input field
// and enum value of the schema has a description: GraphiQL's documentation
// pane is the API's documentation.
func TestSchemaDescribed(t *testing.T) {
	t.Parallel()
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	var missing []string
	for name, def := range s.Types {
		if def.BuiltIn {
			continue
		}
		if strings.TrimSpace(def.Description) == "" {
			missing = append(missing, name)
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if strings.TrimSpace(f.Description) == "" {
				missing = append(missing, name+"."+f.Name)
			}
			for _, a := range f.Arguments {
				if strings.TrimSpace(a.Description) == "" {
					missing = append(missing, name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
		for _, v := range def.EnumValues {
			if strings.TrimSpace(v.Description) == "" {
				missing = append(missing, name+"."+v.Name)
			}
		}
	}
	if len(missing) > 0 {
		t.Fatalf("undescribed: %s", strings.Join(missing, ", "))
	}
}
