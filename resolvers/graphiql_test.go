package resolvers_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/resolvers"
)

// browserAccept is what a browser asks for when it opens a page.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func TestGraphiQL(t *testing.T) {
	t.Parallel()
	svc, err := conduit.NewService(faultyStore{}, conduit.Config{JWTSecret: testSecret, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("CDN", func(t *testing.T) {
		endpoint := serve(t, svc, dbtest.New(t), &syncBuffer{})
		res := do(t, http.MethodGet, endpoint, "", nil, map[string]string{"Accept": browserAccept})
		wantStatus(t, res, http.StatusOK, "text/html")
		page := string(res.body)
		for _, want := range []string{"<title>Conduit GraphiQL</title>", "https://cdn.jsdelivr.net/npm/graphiql@", `location.host + "/graphql"`} {
			if !strings.Contains(page, want) {
				t.Fatalf("page lacks %q:\n%s", want, page)
			}
		}
		// Where the CDN is out of reach, the page says so and what to do,
		// from a script the page's policy allows by its hash.
		notice := regexp.MustCompile(`(?s)<script>(if \(typeof window\["GraphiQL"\] === 'undefined'\).*?make graphiql-assets.*?)</script>`).FindStringSubmatch(page)
		if notice == nil {
			t.Fatalf("page has no notice for scripts that did not load:\n%s", page)
		}
		sum := sha256.Sum256([]byte(notice[1]))
		if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
			t.Fatalf("Content-Security-Policy %q does not allow the notice's script", csp)
		}
	})
	t.Run("NotForPOST", func(t *testing.T) {
		endpoint := serve(t, svc, dbtest.New(t), &syncBuffer{})
		res := do(t, http.MethodPost, endpoint, "application/json", []byte(`{"query":"{ __typename }"}`), map[string]string{"Accept": browserAccept})
		wantStatus(t, res, http.StatusOK, "application/json")
	})
	t.Run("LocalAssets", func(t *testing.T) {
		dir := t.TempDir()
		files := map[string]string{
			"graphiql.min.js":             "/* graphiql */",
			"graphiql.min.css":            "/* css */",
			"react.production.min.js":     "/* react */",
			"react-dom.production.min.js": "/* react-dom */",
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		endpoint := serve(t, svc, dbtest.New(t), &syncBuffer{}, func(o *resolvers.Options) { o.GraphiQLAssetsDir = dir })
		res := do(t, http.MethodGet, endpoint, "", nil, map[string]string{"Accept": browserAccept})
		wantStatus(t, res, http.StatusOK, "text/html")
		page := html.UnescapeString(string(res.body))
		if strings.Contains(page, "cdn.jsdelivr.net") {
			t.Fatalf("page still loads from the CDN:\n%s", page)
		}
		for name, content := range files {
			sum := sha256.Sum256([]byte(content))
			for _, want := range []string{"/graphql/assets/" + name, "sha256-" + base64.StdEncoding.EncodeToString(sum[:])} {
				if !strings.Contains(page, want) {
					t.Fatalf("page lacks %q:\n%s", want, page)
				}
			}
			asset := do(t, http.MethodGet, endpoint+"/assets/"+name, "", nil, nil)
			if asset.status != http.StatusOK || string(asset.body) != content {
				t.Fatalf("GET /graphql/assets/%s = %d %q, want 200 %q", name, asset.status, asset.body, content)
			}
		}
	})
}
