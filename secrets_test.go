package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestLogsHoldNoSecrets runs the real server with every log at debug level
// (SQL included), drives every route of both surfaces that carries a
// password or a token, with right and wrong ones, revoked, forged and
// rate-limited, and scans the whole log: no password, token, password
// hash or the JWT secret may appear in it.
func TestLogsHoldNoSecrets(t *testing.T) {
	const secret = "log-scan-secret-q7Vb0kX2mJ9TzR4uYcN1pW8sLhE6fGaD"
	url := dbtest.NewURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"conduit"}, env(map[string]string{
			"ADDR": "127.0.0.1:0", "DATABASE_URL": url, "BCRYPT_COST": "4", "LOG_FORMAT": "json", "LOG_LEVEL": "debug",
			"JWT_SECRET": secret, "REQUEST_TIMEOUT": "300ms", "RATE_LIMIT_LOGIN_PER_ACCOUNT": "3/1m",
		}), &out)
	}()
	base := waitListening(t, &out, done)

	passwords := []string{"first-password-1", "second-password-2", "graphql-password-3", "wrong-password-4", "another-pass-5"}
	var tokens []string
	keep := func(v struct{ User struct{ Token string } }) { tokens = append(tokens, v.User.Token) }
	var reg struct{ User struct{ Token string } }
	call(t, "POST", base+"/api/users", "", `{"user":{"username":"sam","email":"sam@example.com","password":"`+passwords[0]+`"}}`, 201, &reg)
	keep(reg)
	token := reg.User.Token
	call(t, "POST", base+"/api/users/login", "", `{"user":{"email":"sam@example.com","password":"`+passwords[3]+`"}}`, 401, nil)
	call(t, "POST", base+"/api/users/login", "", `{"user":{"email":"sam@example.com","password":"`+passwords[0]+`"}}`, 200, &reg)
	keep(reg)
	call(t, "PUT", base+"/api/user", token, `{"user":{"password":"`+passwords[1]+`"}}`, 200, &reg)
	keep(reg)
	old := token
	token = reg.User.Token
	call(t, "GET", base+"/api/user", old, "", 401, nil) // revoked
	call(t, "GET", base+"/api/user", token+"x", "", 401, nil)
	call(t, "GET", base+"/api/user", token, "", 200, &reg)
	keep(reg)
	// Rate limited (3 a minute): the password of the attempts refused.
	for _, want := range []int{401, 429, 429} {
		if code, _, _ := status(t, "POST", base+"/api/users/login", "", `{"user":{"email":"sam@example.com","password":"`+passwords[4]+`"}}`); code != want {
			t.Errorf("login attempt = %d, want %d", code, want)
		}
	}
	call(t, "GET", base+"/api/articles/feed", token, "", 200, nil)
	// GraphQL mutations with passwords in variables and in the document.
	gql := func(query string, vars map[string]any) map[string]any {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		var res map[string]any
		call(t, "POST", base+"/graphql", token, string(body), 200, &res)
		return res
	}
	res := gql(`mutation($i: RegisterInput!) { register(input: $i) { token } }`,
		map[string]any{"i": map[string]any{"username": "gia", "email": "gia@example.com", "password": passwords[2]}})
	if tok, ok := res["data"].(map[string]any)["register"].(map[string]any)["token"].(string); ok {
		tokens = append(tokens, tok)
	}
	gql(`mutation { login(input: {email: "gia@example.com", password: "`+passwords[3]+`"}) { token } }`, nil)
	gql(`mutation { login(input: {email: "gia@example.com", password: "`+passwords[2]+`"}) { token } }`, nil)
	gql(`mutation { updateViewer(input: {password: "`+passwords[0]+`x"}) { token } }`, nil)
	gql(`{ viewer { username } } this is not GraphQL "`+passwords[1]+`"`, nil)

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	logs := out.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) || !strings.Contains(logs, `"msg":"sql"`) {
		t.Fatalf("the log lacks the debug lines it was meant to scan:\n%s", logs)
	}
	svcHash := regexp.MustCompile(`\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}`)
	if m := svcHash.FindString(logs); m != "" {
		t.Errorf("a bcrypt hash is in the log: %s", m)
	}
	jwt := regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)
	if m := jwt.FindString(logs); m != "" {
		t.Errorf("a token is in the log: %s", m)
	}
	for _, s := range append(append([]string{secret}, passwords...), tokens...) {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("%q is in the log", s)
		}
	}
	if len(tokens) < 5 {
		t.Fatalf("only %d tokens were issued: the scan saw too little", len(tokens))
	}
	t.Logf("scanned %d log lines (%d KB): no secret", strings.Count(logs, "\n"), len(logs)/1024)
}
