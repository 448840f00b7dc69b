package main

import (
	"bytes"
	"fmt"
	"go/format"
	"go/types"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

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
	// roots are the fields of Query that singleRoot_Query resolves.
	roots []rootField
	// imports holds the packages the generated code names, by path.
	imports map[string]string
	pkgPath string
}

type plainObject struct {
	Name   string // the GraphQL type
	GoType string // the type of obj in the executor's _T
	Fields []plainField
}

// Implementors names the executor's list of the types o satisfies.
func (o plainObject) Implementors() string { return templates.LcFirst(o.Name) + "Implementors" }

// rootField is a field of Query, as gqlgen's _Query resolves it.
type rootField struct {
	Name    string
	NonNull bool // the type is non-null: a null makes the whole data null
}

type plainField struct {
	Name string
	// Check, if not empty, is a condition on obj and f that must hold for
	// the field to be written plainly (an object's selection of its own).
	Check string
	// Write writes the field's value to w.
	Write string
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
		po := plainObject{Name: o.Name, GoType: types.TypeString(o.Reference(), qualify)}
		for _, f := range o.Fields {
			if pf, ok := plainFieldOf(o, f, plain, goTypes); ok {
				po.Fields = append(po.Fields, pf)
			}
		}
		p.objects = append(p.objects, po)
	}
	slices.SortFunc(p.objects, func(a, b plainObject) int { return strings.Compare(a.Name, b.Name) })
	if q := data.QueryRoot; q != nil {
		for _, f := range q.Fields {
			// __typename, __type and __schema are left to _Query.
			if !strings.HasPrefix(f.Name, "__") {
				p.roots = append(p.roots, rootField{Name: f.Name, NonNull: f.TypeReference.GQL.NonNull})
			}
		}
	}
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
		return plainField{Name: f.Name, Write: fmt.Sprintf("writeGlobalID(w, %q, %s)", o.Name, value)}, true
	case plainScalars[gql+"/"+goType] != "":
		return plainField{Name: f.Name, Write: fmt.Sprintf("%s(w, %s)", plainScalars[gql+"/"+goType], value)}, true
	case ref.Definition != nil && ref.Definition.Kind == ast.Object && ref.GQL.Elem != nil && plain[ref.Definition.Name]:
		// A list of objects, written plainly when all of its elements are:
		// only [T!]! of a slice of pointers, where gqlgen has nothing to
		// report for a list that is there.
		child := ref.Definition.Name
		if !ref.GQL.NonNull || !ref.GQL.Elem.NonNull || ref.GQL.Elem.Elem != nil || goType != "[]"+goTypes[child] {
			return plainField{}, false
		}
		return plainField{
			Name:  f.Name,
			Check: fmt.Sprintf("ec.plainAll_%s(f.Selections, %s, c)", child, value),
			Write: fmt.Sprintf("ec.writePlainAll_%s(w, f.Selections, %s, c)", child, value),
		}, true
	case ref.Definition != nil && ref.Definition.Kind == ast.Object && ref.GQL.Elem == nil && plain[ref.Definition.Name]:
		child := ref.Definition.Name
		_, isPtr := ref.GO.(*types.Pointer)
		switch {
		case !isPtr:
			return plainField{
				Name:  f.Name,
				Check: fmt.Sprintf("ec.plain_%s(f.Selections, &%s, c)", child, value),
				Write: fmt.Sprintf("ec.writePlain_%s(w, f.Selections, &%s, c)", child, value),
			}, true
		case ref.GQL.NonNull:
			// A nil here is an error gqlgen reports: leave it to gqlgen.
			return plainField{
				Name:  f.Name,
				Check: fmt.Sprintf("%s != nil && ec.plain_%s(f.Selections, %s, c)", value, child, value),
				Write: fmt.Sprintf("ec.writePlain_%s(w, f.Selections, %s, c)", child, value),
			}, true
		default:
			return plainField{
				Name:  f.Name,
				Check: fmt.Sprintf("%s == nil || ec.plain_%s(f.Selections, %s, c)", value, child, value),
				Write: fmt.Sprintf("if %s == nil {\n\t\t\twriteNull(w)\n\t\t} else {\n\t\t\tec.writePlain_%s(w, f.Selections, %s, c)\n\t\t}", value, child, value),
			}, true
		}
	}
	return plainField{}, false
}

// plainTemplate is plain_gen.go; format.Source lays it out.
var plainTemplate = template.Must(template.New("plain_gen.go").Parse(`// Code generated by graph/gen from gqlgen.yml and the schema. DO NOT EDIT.

package {{.Package}}

import (
	"context"
	"io"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
{{range .Imports}}	{{printf "%q" .}}
{{end}})
{{range .Objects}}{{$n := .Name}}{{$t := .GoType}}
// plain_{{$n}} tells whether sel, over obj, holds only plain fields, which
// writePlain_{{$n}} writes; c, if not nil, keeps the fields collected.
func (ec *executionContext) plain_{{$n}}(sel ast.SelectionSet, obj {{$t}}, c *collected) bool {
	return ec.plainFields_{{$n}}(c.fields(ec.OperationContext, sel, {{.Implementors}}), obj, c)
}

// plainFields_{{$n}} is plain_{{$n}} of the fields collected from a selection.
func (ec *executionContext) plainFields_{{$n}}(fields []graphql.CollectedField, obj {{$t}}, c *collected) bool {
	if !plainFields(fields) {
		return false
	}
	for _, f := range fields {
		switch f.Name {
		case "__typename"{{range .Fields}}{{if not .Check}}, {{printf "%q" .Name}}{{end}}{{end}}:
{{- range .Fields}}{{if .Check}}
		case {{printf "%q" .Name}}:
			if !({{.Check}}) {
				return false
			}
{{- end}}{{end}}
		default:
			return false
		}
	}
	_, _ = obj, c
	return true
}

// plainAll_{{$n}} is plain_{{$n}} of every element of list, whose elements
// share the fields collected below them (in c, or in a collected of the
// list's own).
func (ec *executionContext) plainAll_{{$n}}(sel ast.SelectionSet, list []{{$t}}, c *collected) bool {
	if c == nil && len(list) > 1 {
		c = &collected{}
	}
	fields := c.fields(ec.OperationContext, sel, {{.Implementors}})
	for _, obj := range list {
		if obj == nil || !ec.plainFields_{{$n}}(fields, obj, c) {
			return false
		}
	}
	return true
}

// writePlain_{{$n}} writes sel over obj, which plain_{{$n}} accepted.
func (ec *executionContext) writePlain_{{$n}}(w io.Writer, sel ast.SelectionSet, obj {{$t}}, c *collected) {
	ec.writePlainFields_{{$n}}(w, c.fields(ec.OperationContext, sel, {{.Implementors}}), obj, c)
}

// writePlainFields_{{$n}} is writePlain_{{$n}} of the fields collected from a selection.
func (ec *executionContext) writePlainFields_{{$n}}(w io.Writer, fields []graphql.CollectedField, obj {{$t}}, c *collected) {
	writeOpen(w)
	for i, f := range fields {
		writeName(w, i, f.Alias)
		switch f.Name {
		case "__typename":
			writeString(w, {{printf "%q" $n}})
{{- range .Fields}}
		case {{printf "%q" .Name}}:
			{{.Write}}
{{- end}}
		}
	}
	writeClose(w)
	_ = c
}

// writePlainAll_{{$n}} writes list, which plainAll_{{$n}} accepted, its
// elements sharing the fields collected below them as there.
func (ec *executionContext) writePlainAll_{{$n}}(w io.Writer, sel ast.SelectionSet, list []{{$t}}, c *collected) {
	if c == nil && len(list) > 1 {
		c = &collected{}
	}
	fields := c.fields(ec.OperationContext, sel, {{.Implementors}})
	writeListOpen(w)
	for i, obj := range list {
		if i == 0 {
			// The first element tells how much room the others take.
			start := written(w)
			ec.writePlainFields_{{$n}}(w, fields, obj, c)
			reserveRest(w, start, len(list)-1)
			continue
		}
		writeComma(w)
		ec.writePlainFields_{{$n}}(w, fields, obj, c)
	}
	writeListClose(w)
}

// marshalPlain_{{$n}} is writePlainFields_{{$n}} as the executor's marshaler.
func (ec *executionContext) marshalPlain_{{$n}}(fields []graphql.CollectedField, obj {{$t}}) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { ec.writePlainFields_{{$n}}(w, fields, obj, nil) })
}
{{end}}
// singleRoot_Query resolves sel, the selection of a query, when it is one
// field of Query with no directive (see resolveRoot); ok is false for any
// other selection, which _Query then executes.
func (ec *executionContext) singleRoot_Query(ctx context.Context, sel ast.SelectionSet) (m graphql.Marshaler, ok bool) {
	field, ok := singleField(sel)
	if !ok {
		return nil, false
	}
	var resolve func(context.Context) graphql.Marshaler
	nonNull := false
	switch field.Name {
{{- range .Roots}}
	case {{printf "%q" .Name}}:
		resolve = func(ctx context.Context) graphql.Marshaler { return ec._Query_{{.Name}}(ctx, field) }
		nonNull = {{.NonNull}}
{{- end}}
	default:
		return nil, false
	}
	return resolveRoot(ctx, ec.OperationContext, "Query", field, nonNull, resolve), true
}
`))

func (p *plainObjects) write(file, pkg string) error {
	imports := slices.Sorted(maps.Keys(p.imports))
	var b bytes.Buffer
	if err := plainTemplate.Execute(&b, map[string]any{"Package": pkg, "Imports": imports, "Objects": p.objects, "Roots": p.roots}); err != nil {
		return err
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return fmt.Errorf("plain_gen.go: %w\n%s", err, b.Bytes())
	}
	return os.WriteFile(file, src, 0o644)
}

// hookPlain makes each object's _T function in the executor of dir try
// its plain writer first, _Query try singleRoot_Query, and the marshaler
// of [String!]! write the list in one piece.
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
		head := regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _` + o.Name +
			`\(ctx context\.Context, sel ast\.SelectionSet, obj ` + regexp.QuoteMeta(o.GoType) + `\) graphql\.Marshaler \{\n`)
		hook := fmt.Sprintf("\tif !plainWritersOff.Load() {\n"+
			"\t\tif fields := graphql.CollectFields(ec.OperationContext, sel, %s); ec.plainFields_%s(fields, obj, nil) {\n"+
			"\t\t\treturn ec.marshalPlain_%s(fields, obj)\n\t\t}\n\t}\n",
			o.Implementors(), o.Name, o.Name)
		if found := insertAfter(srcs, head, hook); found != 1 {
			return fmt.Errorf("%d functions _%s(ctx, sel, obj %s) in the executor, want 1: gqlgen's template changed", found, o.Name, o.GoType)
		}
	}
	// A query of one root field skips the field set of _Query, which must
	// resolve each root field as resolveRoot does: recovering a panic, and
	// null for the whole data when a non-null field is null.
	for _, f := range p.roots {
		call := regexp.MustCompile(`(?m)^\t\tcase "` + f.Name + `":\n\t\t\tout\.ResolveRootConcurrently\(innerCtx, ec\.OperationContext, i,\n\t\t\t\ttrue, ` +
			fmt.Sprint(f.NonNull) + `,\n`)
		if found := matches(srcs, call); found != 1 {
			return fmt.Errorf("%d resolutions of Query.%s in _Query as singleRoot_Query's (recovered, non-null %v), want 1: gqlgen's template changed", found, f.Name, f.NonNull)
		}
	}
	queryHead := regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _Query\(ctx context\.Context, sel ast\.SelectionSet\) graphql\.Marshaler \{\n`)
	queryHook := "\tif !plainWritersOff.Load() {\n\t\tif m, ok := ec.singleRoot_Query(ctx, sel); ok {\n\t\t\treturn m\n\t\t}\n\t}\n"
	if found := insertAfter(srcs, queryHead, queryHook); found != 1 {
		return fmt.Errorf("%d functions _Query(ctx, sel) in the executor, want 1: gqlgen's template changed", found)
	}
	// A list of strings (tagList, tags) is written in one piece rather
	// than as a marshaler per string: gqlgen's marshaler of a String!
	// never answers null, so the list is never null for one of them.
	stringsHead := regexp.MustCompile(`(?m)^func \(ec \*executionContext\) marshalNString2ᚕstringᚄ\(ctx context\.Context, sel ast\.SelectionSet, v \[\]string\) graphql\.Marshaler \{\n`)
	if found := insertAfter(srcs, stringsHead, "\tif !plainWritersOff.Load() {\n\t\treturn plainStrings(v)\n\t}\n"); found != 1 {
		return fmt.Errorf("%d functions marshalNString2ᚕstringᚄ in the executor, want 1: gqlgen's template changed", found)
	}
	for _, file := range files {
		if err := os.WriteFile(file, srcs[file], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// matches returns how many matches of re the sources of srcs hold.
func matches(srcs map[string][]byte, re *regexp.Regexp) int {
	found := 0
	for _, src := range srcs {
		found += len(re.FindAllIndex(src, -1))
	}
	return found
}

// insertAfter inserts code after the first match of head in each source of
// srcs, and returns how many matches there were in all.
func insertAfter(srcs map[string][]byte, head *regexp.Regexp, code string) int {
	found := 0
	for file, src := range srcs {
		locs := head.FindAllIndex(src, -1)
		if len(locs) == 0 {
			continue
		}
		found += len(locs)
		end := locs[0][1]
		srcs[file] = slices.Concat(src[:end], []byte(code), src[end:])
	}
	return found
}
