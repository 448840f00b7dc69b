package resolvers_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
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

// TestSchemaStatesLimits checks that the description of each input field
// the domain bounds states the bound the service enforces, so that the
// documentation cannot drift from the rule.
func TestSchemaStatesLimits(t *testing.T) {
	t.Parallel()
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, c := range []struct {
		field  string
		limits []int
	}{
		{"RegisterInput.username", []int{conduit.MaxUsernameLength}},
		{"RegisterInput.email", []int{conduit.MaxEmailLength}},
		{"RegisterInput.password", []int{conduit.MinPasswordLength, conduit.MaxPasswordBytes}},
		{"UpdateViewerInput.email", []int{conduit.MaxEmailLength}},
		{"UpdateViewerInput.password", []int{conduit.MinPasswordLength, conduit.MaxPasswordBytes}},
		{"UpdateViewerInput.bio", []int{conduit.MaxBioLength}},
		{"UpdateViewerInput.image", []int{conduit.MaxImageURLLength}},
		{"CreateArticleInput.title", []int{conduit.MaxTitleLength}},
		{"CreateArticleInput.description", []int{conduit.MaxDescriptionLength}},
		{"CreateArticleInput.body", []int{conduit.MaxBodyLength}},
		{"CreateArticleInput.tagList", []int{conduit.MaxTags, conduit.MaxTagLength}},
		{"UpdateArticleInput.title", []int{conduit.MaxTitleLength}},
		{"UpdateArticleInput.description", []int{conduit.MaxDescriptionLength}},
		{"UpdateArticleInput.body", []int{conduit.MaxBodyLength}},
		{"UpdateArticleInput.tagList", []int{conduit.MaxTags, conduit.MaxTagLength}},
		{"AddCommentInput.body", []int{conduit.MaxCommentLength}},
	} {
		typ, field, _ := strings.Cut(c.field, ".")
		def := s.Types[typ].Fields.ForName(field)
		if def == nil {
			t.Errorf("%s is not in the schema", c.field)
			continue
		}
		for _, n := range c.limits {
			if !strings.Contains(def.Description, " "+strconv.Itoa(n)+" ") {
				t.Errorf("%s: description %q does not state the limit %d", c.field, def.Description, n)
			}
		}
	}
}
