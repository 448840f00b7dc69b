package main

import (
	"bytes"
	"fmt"
	"go/format"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/templates"
	"github.com/vektah/gqlparser/v2/ast"
)

// plainObjects is a gqlgen plugin that writes graph/plain_gen.go: for each
// object type, a check that a selection of it holds only plain fields (a
// struct field of a scalar the check knows, or of an object whose own
// selection does) and a writer of such a selection straight to the
// response. The executor's _T functions are then made to try the writer
// first (hookPlain).
//
// gqlgen resolves every field through the same machinery whatever it is: a
// field context, a context value, closures for its resolver and its
// marshaler, a marshaler kept until the response is written. For a field
// that is a struct's string that is about 1 µs and 6 allocations, and a
// page of 20 comments with their authors is 180 of them. The writer reads
// the same struct fields and appends them to the response (graph/plain.go)
// as the executor's marshalers write them, in the order and under the
// names gqlgen would.
type plainObjects struct {
	objects []plainObject
	// imports holds the packages the generated code names, by path.
	imports map[string]string
	pkgPath string
}

type plainObject struct {
	name   string // the GraphQL type
	goType string // the type of obj in the executor's _T
	fields []plainField
}

type plainField struct {
	name string
	// check, if not empty, is a condition on obj and f that must hold for
	// the field to be written plainly (an object's selection of its own).
	check string
	// write writes the field's value to w.
	write string
}

func (*plainObjects) Name() string { return "plainobjects" }

// GenerateCode writes plain_gen.go beside the executor; gqlgen calls it
// before it writes the executor.
func (p *plainObjects) GenerateCode(data *codegen.Data) error {
	p.imports = map[string]string{}
	p.pkgPath = data.Config.Exec.ImportPath()
	qualify := func(pkg *types.Package) string {
		if pkg.Path() == p.pkgPath {
			return ""
		}
		p.imports[pkg.Path()] = pkg.Name()
		return pkg.Name()
	}
	plain := map[string]bool{}
	goTypes := map[string]string{} // as plainFieldOf names the types of fields
	for _, o := range data.Objects {
		if eligible(o) {
			plain[o.Name] = true
			goTypes[o.Name] = types.TypeString(o.Reference(), func(p *types.Package) string { return p.Name() })
		}
	}
	for _, o := range data.Objects {
		if !plain[o.Name] {
			continue
		}
		po := plainObject{name: o.Name, goType: types.TypeString(o.Reference(), qualify)}
		for _, f := range o.Fields {
			if pf, ok := plainFieldOf(o, f, plain, goTypes); ok {
				po.fields = append(po.fields, pf)
			}
		}
		p.objects = append(p.objects, po)
	}
	slices.SortFunc(p.objects, func(a, b plainObject) int { return strings.Compare(a.name, b.name) })
	return p.write(filepath.Join(data.Config.Exec.Dir(), "plain_gen.go"), data.Config.Exec.Package)
}

// eligible tells whether o's values can be written plainly at all: an
// object the executor marshals with a _T(ctx, sel, obj) function.
func eligible(o *codegen.Object) bool {
	return o.Kind == ast.Object && !o.Root && !o.Stream && !strings.HasPrefix(o.Name, "__")
}

// The scalars written plainly, by GraphQL type and Go type, with their
// writers in graph/plain.go: those whose marshalers write a value and
// nothing else (no error, no null for a value, no reading of the
// context).
var plainScalars = map[string]string{
	"String!/string":      "writeString",
	"String/*string":      "writeOptString",
	"Boolean!/bool":       "writeBool",
	"Int!/int":            "writeInt",
	"DateTime!/time.Time": "writeDateTime",
	"[String!]!/[]string": "writeStrings",
}

// plainFieldOf returns how f of o is written plainly, if it can be.
func plainFieldOf(o *codegen.Object, f *codegen.Field, plain map[string]bool, goTypes map[string]string) (plainField, bool) {
	if f.IsConcurrent() || f.IsBatch() || len(f.Args) > 0 || f.HasDirectives() ||
		f.GoFieldType != codegen.GoFieldVariable || f.TypeReference == nil {
		return plainField{}, false
	}
	ref := f.TypeReference
	value := "obj." + f.GoFieldName
	goType := types.TypeString(ref.GO, func(p *types.Package) string { return p.Name() })
	gql := ref.GQL.String()
	switch {
	case gql == "ID!" && goType == "int64":
		// A database id, written as the global id of o's type (see
		// MarshalGlobalID, which reads the type from the field context).
		return plainField{name: f.Name, write: fmt.Sprintf("writeGlobalID(w, %q, %s)", o.Name, value)}, true
	case plainScalars[gql+"/"+goType] != "":
		return plainField{name: f.Name, write: fmt.Sprintf("%s(w, %s)", plainScalars[gql+"/"+goType], value)}, true
	case ref.Definition != nil && ref.Definition.Kind == ast.Object && ref.GQL.Elem != nil && plain[ref.Definition.Name]:
		// A list of objects, written plainly when all of its elements are:
		// only [T!]! of a slice of pointers, where gqlgen has nothing to
		// report for a list that is there.
		child := ref.Definition.Name
		if !ref.GQL.NonNull || !ref.GQL.Elem.NonNull || ref.GQL.Elem.Elem != nil || goType != "[]"+goTypes[child] {
			return plainField{}, false
		}
		return plainField{
			name:  f.Name,
			check: fmt.Sprintf("ec.plainAll_%s(f.Selections, %s)", child, value),
			write: fmt.Sprintf("ec.writePlainAll_%s(w, f.Selections, %s)", child, value),
		}, true
	case ref.Definition != nil && ref.Definition.Kind == ast.Object && ref.GQL.Elem == nil && plain[ref.Definition.Name]:
		child := ref.Definition.Name
		_, isPtr := ref.GO.(*types.Pointer)
		switch {
		case !isPtr:
			return plainField{
				name:  f.Name,
				check: fmt.Sprintf("ec.plain_%s(f.Selections, &%s)", child, value),
				write: fmt.Sprintf("ec.writePlain_%s(w, f.Selections, &%s)", child, value),
			}, true
		case ref.GQL.NonNull:
			// A nil here is an error gqlgen reports: leave it to gqlgen.
			return plainField{
				name:  f.Name,
				check: fmt.Sprintf("%s != nil && ec.plain_%s(f.Selections, %s)", value, child, value),
				write: fmt.Sprintf("ec.writePlain_%s(w, f.Selections, %s)", child, value),
			}, true
		default:
			return plainField{
				name:  f.Name,
				check: fmt.Sprintf("%s == nil || ec.plain_%s(f.Selections, %s)", value, child, value),
				write: fmt.Sprintf("if %s == nil {\n\t\t\twriteNull(w)\n\t\t} else {\n\t\t\tec.writePlain_%s(w, f.Selections, %s)\n\t\t}", value, child, value),
			}, true
		}
	}
	return plainField{}, false
}

func (p *plainObjects) write(file, pkg string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by graph/gen from gqlgen.yml and the schema. DO NOT EDIT.\n\npackage %s\n\n", pkg)
	b.WriteString("import (\n\t\"io\"\n\n\t\"github.com/99designs/gqlgen/graphql\"\n\t\"github.com/vektah/gqlparser/v2/ast\"\n")
	paths := make([]string, 0, len(p.imports))
	for path := range p.imports {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	for _, path := range paths {
		fmt.Fprintf(&b, "\t%q\n", path)
	}
	b.WriteString(")\n")
	for _, o := range p.objects {
		implementors := templates.LcFirst(o.name) + "Implementors"
		n, t := o.name, o.goType
		fmt.Fprintf(&b, "\n// plain_%s tells whether sel, over obj, holds only plain fields, which\n// writePlain_%s writes.\n", n, n)
		fmt.Fprintf(&b, "func (ec *executionContext) plain_%s(sel ast.SelectionSet, obj %s) bool {\n", n, t)
		fmt.Fprintf(&b, "\treturn ec.plainFields_%s(graphql.CollectFields(ec.OperationContext, sel, %s), obj)\n}\n", n, implementors)

		fmt.Fprintf(&b, "\n// plainFields_%s is plain_%s of the fields collected from a selection.\n", n, n)
		fmt.Fprintf(&b, "func (ec *executionContext) plainFields_%s(fields []graphql.CollectedField, obj %s) bool {\n", n, t)
		b.WriteString("\tif !plainFields(fields) {\n\t\treturn false\n\t}\n")
		b.WriteString("\tfor _, f := range fields {\n\t\tswitch f.Name {\n\t\tcase \"__typename\"")
		for _, f := range o.fields {
			if f.check == "" {
				fmt.Fprintf(&b, ", %q", f.name)
			}
		}
		b.WriteString(":\n")
		for _, f := range o.fields {
			if f.check != "" {
				fmt.Fprintf(&b, "\t\tcase %q:\n\t\t\tif !(%s) {\n\t\t\t\treturn false\n\t\t\t}\n", f.name, f.check)
			}
		}
		b.WriteString("\t\tdefault:\n\t\t\treturn false\n\t\t}\n\t}\n\t_ = obj\n\treturn true\n}\n")

		fmt.Fprintf(&b, "\n// plainAll_%s is plain_%s of every element of list.\n", n, n)
		fmt.Fprintf(&b, "func (ec *executionContext) plainAll_%s(sel ast.SelectionSet, list []%s) bool {\n", n, t)
		fmt.Fprintf(&b, "\tfields := graphql.CollectFields(ec.OperationContext, sel, %s)\n", implementors)
		fmt.Fprintf(&b, "\tfor _, obj := range list {\n\t\tif obj == nil || !ec.plainFields_%s(fields, obj) {\n\t\t\treturn false\n\t\t}\n\t}\n\treturn true\n}\n", n)

		fmt.Fprintf(&b, "\n// writePlain_%s writes sel over obj, which plain_%s accepted.\n", n, n)
		fmt.Fprintf(&b, "func (ec *executionContext) writePlain_%s(w io.Writer, sel ast.SelectionSet, obj %s) {\n", n, t)
		fmt.Fprintf(&b, "\tec.writePlainFields_%s(w, graphql.CollectFields(ec.OperationContext, sel, %s), obj)\n}\n", n, implementors)

		fmt.Fprintf(&b, "\n// writePlainFields_%s is writePlain_%s of the fields collected from a selection.\n", n, n)
		fmt.Fprintf(&b, "func (ec *executionContext) writePlainFields_%s(w io.Writer, fields []graphql.CollectedField, obj %s) {\n", n, t)
		b.WriteString("\twriteOpen(w)\n\tfor i, f := range fields {\n\t\twriteName(w, i, f.Alias)\n\t\tswitch f.Name {\n")
		fmt.Fprintf(&b, "\t\tcase \"__typename\":\n\t\t\twriteString(w, %q)\n", n)
		for _, f := range o.fields {
			fmt.Fprintf(&b, "\t\tcase %q:\n\t\t\t%s\n", f.name, f.write)
		}
		b.WriteString("\t\t}\n\t}\n\twriteClose(w)\n}\n")

		fmt.Fprintf(&b, "\n// writePlainAll_%s writes list, which plainAll_%s accepted.\n", n, n)
		fmt.Fprintf(&b, "func (ec *executionContext) writePlainAll_%s(w io.Writer, sel ast.SelectionSet, list []%s) {\n", n, t)
		fmt.Fprintf(&b, "\tfields := graphql.CollectFields(ec.OperationContext, sel, %s)\n", implementors)
		fmt.Fprintf(&b, "\twriteListOpen(w)\n\tfor i, obj := range list {\n\t\tif i > 0 {\n\t\t\twriteComma(w)\n\t\t}\n\t\tec.writePlainFields_%s(w, fields, obj)\n\t}\n\twriteListClose(w)\n}\n", n)

		fmt.Fprintf(&b, "\n// marshalPlain_%s is writePlainFields_%s as the executor's marshaler.\n", n, n)
		fmt.Fprintf(&b, "func (ec *executionContext) marshalPlain_%s(fields []graphql.CollectedField, obj %s) graphql.Marshaler {\n", n, t)
		fmt.Fprintf(&b, "\treturn graphql.WriterFunc(func(w io.Writer) { ec.writePlainFields_%s(w, fields, obj) })\n}\n", n)
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return fmt.Errorf("plain_gen.go: %w\n%s", err, b.Bytes())
	}
	return os.WriteFile(file, src, 0o644)
}

// hookPlain makes each object's _T function in the executor of dir try
// its plain writer first.
func (p *plainObjects) hookPlain(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.generated.go"))
	if err != nil {
		return err
	}
	srcs := map[string][]byte{}
	for _, file := range files {
		if srcs[file], err = os.ReadFile(file); err != nil {
			return err
		}
	}
	for _, o := range p.objects {
		head := regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _` + o.name +
			`\(ctx context\.Context, sel ast\.SelectionSet, obj ` + regexp.QuoteMeta(o.goType) + `\) graphql\.Marshaler \{\n`)
		hook := fmt.Sprintf("\tif !plainWritersOff.Load() {\n"+
			"\t\tif fields := graphql.CollectFields(ec.OperationContext, sel, %s); ec.plainFields_%s(fields, obj) {\n"+
			"\t\t\treturn ec.marshalPlain_%s(fields, obj)\n\t\t}\n\t}\n",
			templates.LcFirst(o.name)+"Implementors", o.name, o.name)
		found := 0
		for file, src := range srcs {
			locs := head.FindAllIndex(src, -1)
			if len(locs) == 0 {
				continue
			}
			found += len(locs)
			end := locs[0][1]
			srcs[file] = slices.Concat(src[:end], []byte(hook), src[end:])
		}
		if found != 1 {
			return fmt.Errorf("%d functions _%s(ctx, sel, obj %s) in the executor, want 1: gqlgen's template changed", found, o.name, o.goType)
		}
	}
	for _, file := range files {
		if err := os.WriteFile(file, srcs[file], 0o644); err != nil {
			return err
		}
	}
	return nil
}
