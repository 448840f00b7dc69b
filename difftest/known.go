package difftest

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// DefaultKnownFile is where the known differences are kept, relative to
// the repository's root.
const DefaultKnownFile = "docs/diff-known.yaml"

// Known is one difference between the old backend and this one that has
// been looked at and accepted, with the rule of the API that justifies it.
type Known struct {
	// Operation is the operationId; "*" for every operation.
	Operation string `yaml:"operation" json:"operation"`
	// Kind is one of status, missing key, extra key, type, value, order.
	Kind Kind `yaml:"kind" json:"kind"`
	// Path is the JSON path as the report writes it ("$.article.tagList",
	// every index "[]"); empty for a status. A path ending in ".*" covers
	// everything under it.
	Path string `yaml:"path" json:"path"`
	// Old and New are the two behaviours, as the report's old and new
	// columns write them; "*" accepts any.
	Old string `yaml:"old" json:"old"`
	New string `yaml:"new" json:"new"`
	// Rule is why the difference is right (or accepted): the part of the
	// contract it follows, and who decided.
	Rule string `yaml:"rule" json:"rule"`
}

// knownFile is the file's layout.
type knownFile struct {
	Differences []Known `yaml:"differences"`
}

// LoadKnown reads a known-differences file. A missing file is an error
// unless missingOK, when it stands for an empty list. Every entry must
// name a legacy operation and a kind, say both behaviours and give its rule.
func LoadKnown(path string, missingOK bool) ([]Known, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && missingOK {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("known differences: %w", err)
	}
	var f knownFile
	if err := yaml.UnmarshalWithOptions(b, &f, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("known differences %s: %w", path, err)
	}
	ops := Operations()
	for i, k := range f.Differences {
		where := fmt.Sprintf("known differences %s, entry %d", path, i+1)
		switch {
		case k.Operation != "*" && !slices.Contains(ops, k.Operation):
			return nil, fmt.Errorf("%s: operation %q is not one of %s (or *)", where, k.Operation, strings.Join(ops, ", "))
		case !slices.Contains(kinds, k.Kind):
			return nil, fmt.Errorf("%s: kind %q is not one of status, missing key, extra key, type, value, order", where, k.Kind)
		case k.Kind != KindStatus && !strings.HasPrefix(k.Path, "$"):
			return nil, fmt.Errorf("%s: path %q is not a JSON path starting with $", where, k.Path)
		case k.Kind == KindStatus && k.Path != "":
			return nil, fmt.Errorf("%s: a status difference has no path", where)
		case k.Old == "" || k.New == "":
			return nil, fmt.Errorf("%s: say the old and the new behaviour (\"*\" for any)", where)
		case strings.TrimSpace(k.Rule) == "":
			return nil, fmt.Errorf("%s: give the rule of the API that justifies the difference", where)
		}
	}
	return f.Differences, nil
}

// matches says whether the entry accepts the difference.
func (k Known) matches(d Difference) bool {
	if k.Operation != "*" && k.Operation != d.Op || k.Kind != d.Kind {
		return false
	}
	if under, ok := strings.CutSuffix(k.Path, ".*"); ok {
		if d.Path != under && !strings.HasPrefix(d.Path, under+".") && !strings.HasPrefix(d.Path, under+"[") {
			return false
		}
	} else if k.Path != d.Path {
		return false
	}
	return (k.Old == "*" || k.Old == d.Old) && (k.New == "*" || k.New == d.New)
}

// lookup returns the first entry that accepts d.
func lookup(known []Known, d Difference) *Known {
	for i := range known {
		if known[i].matches(d) {
			return &known[i]
		}
	}
	return nil
}
