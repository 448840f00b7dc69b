package legacy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/conduit-dev/conduit/conduit"
)

// schema is the part of JSON Schema 2020-12 (OpenAPI 3.1's dialect) that the
// document uses. Keys are written in the order of the fields.
type schema struct {
	Ref           string     `json:"$ref,omitempty"`
	Description   string     `json:"description,omitempty"`
	Type          any        `json:"type,omitempty"` // "string", or ["string", "null"]
	Format        string     `json:"format,omitempty"`
	Pattern       string     `json:"pattern,omitempty"`
	MinLength     *int       `json:"minLength,omitempty"`
	MaxLength     *int       `json:"maxLength,omitempty"`
	Minimum       *int       `json:"minimum,omitempty"`
	Default       any        `json:"default,omitempty"`
	Items         *schema    `json:"items,omitempty"`
	MaxItems      *int       `json:"maxItems,omitempty"`
	AnyOf         []*schema  `json:"anyOf,omitempty"`
	Properties    properties `json:"properties,omitempty"`
	Required      []string   `json:"required,omitempty"`
	MinProperties *int       `json:"minProperties,omitempty"`
	// AdditionalProperties is false, or the schema of every other key.
	AdditionalProperties any   `json:"additionalProperties,omitempty"`
	Examples             []any `json:"examples,omitempty"`
}

// properties are an object's keys in the order the wire writes them.
type properties = ordered[*schema]

// ordered is a JSON object whose members keep the order they were added
// in (encoding/json sorts a map's keys): the document reads in the order
// of the route table and of the wire types.
type ordered[V any] []member[V]

type member[V any] struct {
	key   string
	value V
}

// MarshalJSON writes the members as one object, in order.
func (o ordered[V]) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// component is a named wire type: it is described once, under
// components/schemas, and referred to everywhere else.
type component struct {
	name        string
	description string
}

// components names every struct type of the wire, with what a client should
// know about it. Reflecting a named struct type missing here fails, so that
// no shape goes undescribed.
var components = map[reflect.Type]component{
	reflect.TypeFor[userJSON]():          {"User", "The signed-in user's own account, with a fresh token. Never another user's, never a password."},
	reflect.TypeFor[profileJSON]():       {"Profile", "A user as others see them; also every article's and comment's `author`."},
	reflect.TypeFor[articleJSON]():       {"Article", "An article on its own, body included."},
	reflect.TypeFor[listedArticleJSON](): {"ListedArticle", "An article in a list: the keys of an Article without `body` (left out of lists since the 2024 revision of the API)."},
	reflect.TypeFor[commentJSON]():       {"Comment", "A comment on an article."},
	reflect.TypeFor[errorBody]():         {"Errors", "Why a request failed: messages by the field they are about. Messages about no one field are filed under `body`."},

	reflect.TypeFor[userResponse]():         {"UserResponse", "The envelope of a user."},
	reflect.TypeFor[profileResponse]():      {"ProfileResponse", "The envelope of a profile."},
	reflect.TypeFor[articleResponse]():      {"ArticleResponse", "The envelope of an article."},
	reflect.TypeFor[articlesJSON]():         {"ArticlesResponse", "A page of articles, newest first, and how many match in all."},
	reflect.TypeFor[commentResponse]():      {"CommentResponse", "The envelope of a comment."},
	reflect.TypeFor[commentsResponse]():     {"CommentsResponse", "Every comment on an article, newest first."},
	reflect.TypeFor[tagsResponse]():         {"TagsResponse", "Every tag in use, most used first, ties in alphabetical order."},
	reflect.TypeFor[loginRequest]():         {"LoginRequest", "The credentials of a sign-in."},
	reflect.TypeFor[registerRequest]():      {"RegisterRequest", "A new account."},
	reflect.TypeFor[updateUserRequest]():    {"UpdateUserRequest", "Changes to the signed-in user's account: any of its fields. A field left out stays as it is; `username`, `email` and `password` sent as `\"\"` too."},
	reflect.TypeFor[createArticleRequest](): {"NewArticleRequest", "A new article."},
	reflect.TypeFor[updateArticleRequest](): {"UpdateArticleRequest", "Changes to an article: any of its fields. A field left out stays as it is."},
	reflect.TypeFor[addCommentRequest]():    {"NewCommentRequest", "A new comment."},
}

// timestampSchema is the component every timestamp refers to.
const timestampName = "Timestamp"

func timestampSchema() *schema {
	return &schema{
		Description: "UTC, always with exactly three fractional digits (old clients parse it with a regular expression that requires them).",
		Type:        "string", Format: "date-time",
		Pattern:  `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`,
		Examples: []any{sampleTime.UTC().Format(timeLayout)},
	}
}

// fieldDoc is what a field's type cannot say: limits, formats, meaning.
type fieldDoc struct {
	description string
	format      string
	minLength   int
	maxLength   int // of the string, or of each item of an array
	maxItems    int
}

// requestFields documents request fields by their path from the body's
// root. The limits are the service's: a longer value is refused with 422.
// JSON Schema's maxLength counts characters, as the service does; the
// password's and the email's limits are in bytes, which the descriptions
// say (maxLength is then an upper bound: no value with more characters fits).
var requestFields = map[string]fieldDoc{
	"user.email": {format: "email", maxLength: conduit.MaxEmailLength,
		description: fmt.Sprintf("A bare address with a dot in its domain, at most %d bytes. Unique whatever its case.", conduit.MaxEmailLength)},
	"user.password": {minLength: conduit.MinPasswordLength, maxLength: conduit.MaxPasswordBytes,
		description: fmt.Sprintf("At least %d characters and at most %d bytes of UTF-8 (bcrypt's limit).", conduit.MinPasswordLength, conduit.MaxPasswordBytes)},
	"user.username": {maxLength: conduit.MaxUsernameLength,
		description: fmt.Sprintf("At most %d characters, stored in Unicode NFKC form and unique whatever its case or form; "+
			"no spaces, control or invisible characters, nor `/`, `?`, `#` or `%%`.", conduit.MaxUsernameLength)},
	"user.bio":            {maxLength: conduit.MaxBioLength, description: fmt.Sprintf("At most %d characters; `null` or `\"\"` clears it.", conduit.MaxBioLength)},
	"user.image":          {maxLength: conduit.MaxImageURLLength, description: fmt.Sprintf("The URL of the user's picture, at most %d characters; `null` or `\"\"` clears it.", conduit.MaxImageURLLength)},
	"article.title":       {maxLength: conduit.MaxTitleLength, description: fmt.Sprintf("Not blank, at most %d characters. The slug derives from it.", conduit.MaxTitleLength)},
	"article.description": {maxLength: conduit.MaxDescriptionLength, description: fmt.Sprintf("A one-line summary, not blank, at most %d characters.", conduit.MaxDescriptionLength)},
	"article.body":        {maxLength: conduit.MaxBodyLength, description: fmt.Sprintf("Not blank, at most %d characters.", conduit.MaxBodyLength)},
	"article.tagList": {maxLength: conduit.MaxTagLength, maxItems: conduit.MaxTags,
		description: fmt.Sprintf("At most %d distinct tags of at most %d characters each, trimmed; empty ones and repeats are dropped, and the rest sorted.", conduit.MaxTags, conduit.MaxTagLength)},
	"comment.body": {maxLength: conduit.MaxCommentLength, description: fmt.Sprintf("Not blank, at most %d characters.", conduit.MaxCommentLength)},
}

// responseFields documents fields of the response components, by
// "Component.key".
var responseFields = map[string]string{
	"User.token":                     "A JWT: send it as `Authorization: Token <jwt>` (or `Bearer <jwt>`). A password change revokes it.",
	"User.bio":                       "`null` when unset.",
	"User.image":                     "`null` when unset.",
	"Profile.bio":                    "`null` when unset.",
	"Profile.image":                  "`null` when unset.",
	"Profile.following":              "Whether the caller follows this user; false for anonymous callers.",
	"Article.slug":                   "The article's name in paths; it follows a changed title.",
	"Article.tagList":                "Sorted alphabetically; `[]` when there are none.",
	"Article.favorited":              "Whether the caller favorited the article; false for anonymous callers.",
	"ListedArticle.tagList":          "Sorted alphabetically; `[]` when there are none.",
	"ListedArticle.favorited":        "Whether the caller favorited the article; false for anonymous callers.",
	"Comment.id":                     "The comment's number, for deleting it.",
	"ArticlesResponse.articlesCount": "How many articles match, before `limit` and `offset`.",
}

// optionalField is implemented by optional[T], whose schema is T's.
type optionalField interface {
	valueType() reflect.Type
}

func (optional[T]) valueType() reflect.Type { return reflect.TypeFor[T]() }

var (
	optionalType  = reflect.TypeFor[optionalField]()
	timestampType = reflect.TypeFor[timestamp]()
)

// reflector turns wire types into schemas, collecting the components it
// meets on the way.
type reflector struct {
	schemas map[string]*schema
}

func newReflector() *reflector {
	return &reflector{schemas: map[string]*schema{timestampName: timestampSchema()}}
}

func ref(name string) *schema { return &schema{Ref: "#/components/schemas/" + name} }

// schemaOf returns the schema of t. request says whether t is read from a
// request (whose keys may be left out and whose unknown keys are ignored)
// or written in a response (every key, always, and no other); path is the
// JSON path of a request field from the body's root, for requestFields.
func (r *reflector) schemaOf(t reflect.Type, request bool, path string) *schema {
	if t == timestampType {
		return ref(timestampName)
	}
	if t.Implements(optionalType) {
		inner := reflect.Zero(t).Interface().(optionalField).valueType()
		s := r.schemaOf(inner, request, path)
		if inner.Kind() == reflect.Slice {
			// null is the empty list: it clears.
			s = nullable(s)
		}
		return s
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(r.schemaOf(t.Elem(), request, path))
	case reflect.String:
		return &schema{Type: "string"}
	case reflect.Bool:
		return &schema{Type: "boolean"}
	case reflect.Int, reflect.Int32:
		return &schema{Type: "integer"}
	case reflect.Int64:
		return &schema{Type: "integer", Format: "int64"}
	case reflect.Slice:
		return &schema{Type: "array", Items: r.schemaOf(t.Elem(), request, path)}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic("legacy: no schema for map key " + t.Key().String())
		}
		return &schema{Type: "object", AdditionalProperties: r.schemaOf(t.Elem(), request, path)}
	case reflect.Struct:
		if t.Name() == "" {
			return r.object(t, request, path, "")
		}
		c, ok := components[t]
		if !ok {
			panic("legacy: the wire type " + t.String() + " has no entry in components")
		}
		if _, done := r.schemas[c.name]; !done {
			r.schemas[c.name] = nil // recursion guard; none of the wire types is recursive
			s := r.object(t, request, "", c.name)
			s.Description = c.description
			r.schemas[c.name] = s
		}
		return ref(c.name)
	}
	panic("legacy: no schema for " + t.String())
}

// object is the schema of a struct's JSON object. component names the
// component it is, "" for an anonymous struct.
func (r *reflector) object(t reflect.Type, request bool, path, component string) *schema {
	s := &schema{Type: "object"}
	if !request {
		s.AdditionalProperties = false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := name
		if path != "" {
			p = path + "." + name
		}
		fs := r.schemaOf(f.Type, request, p)
		if request {
			if d, ok := requestFields[p]; ok {
				fs = documented(fs, d)
			}
		} else if d := responseFields[component+"."+name]; d != "" {
			fs = describe(fs, d)
		}
		s.Properties = append(s.Properties, member[*schema]{name, fs})
		if !request || !f.Type.Implements(optionalType) && !strings.Contains(opts, "omitempty") {
			s.Required = append(s.Required, name)
		}
	}
	return s
}

// nullable allows null beside what s allows.
func nullable(s *schema) *schema {
	if s.Ref != "" {
		return &schema{AnyOf: []*schema{s, {Type: "null"}}}
	}
	c := *s
	c.Type = []string{s.Type.(string), "null"}
	return &c
}

// describe gives s a description; a reference gets it beside the $ref,
// which OpenAPI 3.1 allows.
func describe(s *schema, description string) *schema {
	c := *s
	c.Description = description
	return &c
}

// documented applies a field's documentation to its schema: the limits go
// to the string itself, or to each item of an array.
func documented(s *schema, d fieldDoc) *schema {
	c := *s
	c.Description = d.description
	target := &c
	if c.Items != nil {
		items := *c.Items
		c.Items = &items
		target = c.Items
		if d.maxItems > 0 {
			c.MaxItems = ptr(d.maxItems)
		}
	}
	target.Format = d.format
	if d.minLength > 0 {
		target.MinLength = ptr(d.minLength)
	}
	if d.maxLength > 0 {
		target.MaxLength = ptr(d.maxLength)
	}
	return &c
}
